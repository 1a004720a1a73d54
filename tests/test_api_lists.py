"""The API has no gaps: a client finds its contracts and experiments (a contract names the experiment
it started), with one pagination shape everywhere."""

from __future__ import annotations

from marketplace.awards.tables import Contract
from tests.factories import make_user, token_for
from tests.factories_transparency import make_running_contract


async def test_each_party_lists_its_contracts_and_experiments_and_the_contract_names_its_experiment(client):
    setting, award, contract, experiment_id = await make_running_contract()
    await Contract.update({Contract.experiment_id: experiment_id}).where(Contract.id == contract.id)
    company = await token_for(setting.winner_member)
    buyer = await token_for(setting.civil_servant)

    for headers in (company, buyer):
        contracts = (await client.get("/api/v1/contracts", headers=headers)).json()
        assert [c["id"] for c in contracts["items"]] == [str(contract.id)] and contracts["next_cursor"] is None
        assert contracts["items"][0]["experiment_id"] == str(experiment_id)
        experiments = (await client.get("/api/v1/experiments", headers=headers)).json()
        assert [e["id"] for e in experiments["items"]] == [str(experiment_id)]
        assert experiments["items"][0]["contract_id"] == str(contract.id)
    assert (await client.get("/api/v1/experiments", headers=buyer)).json()["items"][0]["role"] == "buyer"

    stranger = await token_for(await make_user("company_member"))
    assert (await client.get("/api/v1/contracts", headers=stranger)).json() == {"items": [], "next_cursor": None}
    assert (await client.get("/api/v1/experiments", headers=stranger)).json() == {"items": [], "next_cursor": None}
    assert (await client.get("/api/v1/experiments")).status_code == 401


async def test_an_incubator_sees_its_consenting_portfolio_companies_experiments_read_only(client):
    from marketplace.accounts.tables import PortfolioLink

    setting, _award, _contract, experiment_id = await make_running_contract()
    incubator = await make_user("incubator_member")
    headers = await token_for(incubator)
    await PortfolioLink.insert(PortfolioLink(incubator=incubator.org.id, company=setting.winner.company_org.id, status="pending"))
    assert (await client.get("/api/v1/experiments", headers=headers)).json()["items"] == []  # no consent yet
    await PortfolioLink.update({PortfolioLink.status: "accepted"}).where(PortfolioLink.incubator == incubator.org.id)
    items = (await client.get("/api/v1/experiments", headers=headers)).json()["items"]
    assert [(e["id"], e["role"]) for e in items] == [(str(experiment_id), "incubator")]
    assert (await client.get("/api/v1/contracts", headers=headers)).json()["items"] == []  # contracts: the parties only


async def test_signing_the_contract_records_the_experiment_it_started(client):
    from marketplace.experiments.services import start_experiment
    from tests.factories_transparency import make_running_contract as running

    setting, _award, contract, _ = await running()
    await Contract.update({Contract.experiment_id: None}).where(Contract.id == contract.id)
    started = await start_experiment(contract.id)  # idempotent: returns the running experiment
    row = await Contract.select(Contract.experiment_id).where(Contract.id == contract.id).first()
    assert str(row["experiment_id"]) == started


async def test_lists_page_with_an_opaque_cursor_and_refuse_a_forged_one(client):
    setting, *_ = await make_running_contract()
    headers = await token_for(setting.civil_servant)
    for path in ("/api/v1/contracts", "/api/v1/experiments"):
        first = (await client.get(f"{path}?limit=1", headers=headers)).json()
        assert len(first["items"]) == 1 and first["next_cursor"] is None
        forged = await client.get(f"{path}?cursor=not-a-cursor", headers=headers)
        assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "cursor"
        assert (await client.get(f"{path}?limit=101", headers=headers)).status_code == 422


async def test_every_list_answers_items_and_next_cursor_and_pages(client):
    from marketplace.challenges.tables import ChallengeVersion, Question

    setting, _award, contract, _experiment_id = await make_running_contract()
    challenge = setting.challenge.id
    for n in range(3):
        await Question.insert(Question(challenge=challenge, text=f"Question {n}?", answer="Yes.",
                                       answered_at=setting.challenge.published_at))
    await ChallengeVersion.insert(ChallengeVersion(challenge=challenge, version=2, snapshot="{}", change_note="More time."))
    buyer = await token_for(setting.civil_servant)
    lists = ["/api/v1/procedures", f"/api/v1/challenges/{challenge}/questions", f"/api/v1/challenges/{challenge}/versions",
             "/api/v1/outcomes", f"/api/v1/payouts?contract_id={contract.id}", "/api/v1/contracts", "/api/v1/experiments"]
    for path in lists:
        body = (await client.get(path, headers=buyer)).json()
        assert set(body) >= {"items", "next_cursor"}, path
    questions = f"/api/v1/challenges/{challenge}/questions"
    first = (await client.get(f"{questions}?limit=2")).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (await client.get(f"{questions}?limit=2&cursor={first['next_cursor']}")).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {q["text"] for q in first["items"] + rest["items"]} == {"Question 0?", "Question 1?", "Question 2?"}
    procedures = (await client.get("/api/v1/procedures?limit=1")).json()
    assert len(procedures["items"]) == 1 and procedures["next_cursor"]
    assert (await client.get("/api/v1/procedures?limit=0")).status_code == 422


async def test_a_stage_s_proposals_are_paged_in_the_database_by_company_name(client):
    from datetime import timedelta

    import time_machine

    from tests.factories import make_org
    from tests.factories_proposals import make_buyer_team, make_open_challenge, make_proposal, stage_row

    buyer = await make_org("public_body")
    team = await make_buyer_team(buyer)
    challenge = await make_open_challenge(buyer)
    for name in ("Charlie BV", "Alpha NV", "Bravo SRL"):
        await make_proposal(challenge, await make_org("company", name=name), status="submitted")
    civil = await token_for(team["civil_servant"])
    closes = (await stage_row(challenge, challenge.current_stage))["closes_at"]
    with time_machine.travel(closes + timedelta(minutes=1), tick=False):
        path = f"/api/v1/challenges/{challenge.id}/proposals"
        first = (await client.get(f"{path}?limit=2", headers=civil)).json()
        assert [i["company"]["name"] for i in first["items"]] == ["Alpha NV", "Bravo SRL"] and first["next_cursor"]
        rest = (await client.get(f"{path}?limit=2&cursor={first['next_cursor']}", headers=civil)).json()
        assert [i["company"]["name"] for i in rest["items"]] == ["Charlie BV"] and rest["next_cursor"] is None
        assert (await client.get(f"{path}?cursor=3", headers=civil)).status_code == 422
