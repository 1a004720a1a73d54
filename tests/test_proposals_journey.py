"""A company answers the light procedure stage by stage, by the server's clock; every template can be
walked end to end; decisions carry feedback and companies are told."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace.accounts.tables import PortfolioLink
from marketplace.mail.tables import Notification, OutboxMessage
from marketplace.procedures import engine
from marketplace.proposals import services
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row, valid_answers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


async def test_a_company_walks_the_light_procedure(client):
    travel = time_machine.travel(T0, tick=False)
    traveller = travel.start()
    try:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        civil = await token_for(team["civil_servant"])
        challenge = await make_open_challenge(buyer, start=T0)
        company = await make_org("company", description="Two paramedics and a speech scientist.")
        lena = await make_user("company_member", org=company)
        rival = await make_user("company_member")
        lena_h, rival_h = await token_for(lena), await token_for(rival)

        started = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=lena_h)
        assert started.status_code == 201, started.text
        proposal = started.json()
        pid = proposal["id"]
        eoi = proposal["stages"][0]
        assert eoi["key"] == "expression_of_interest"
        assert eoi["answers"] == {"team": "Two paramedics and a speech scientist."}, "the profile is carried forward"
        assert proposal["next"]["kind"] == "deadline"
        again = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=lena_h)
        assert again.status_code == 409

        # A draft saves; submission names each missing or too-long field.
        saved = await client.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=lena_h,
                                 json={"answers": {"idea": "word " * 301}})
        assert saved.status_code == 200, saved.text
        refused = await client.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=lena_h)
        assert refused.status_code == 422
        errors = {e["field"]: e["message"] for e in refused.json()["errors"]}
        assert errors == {"answers.idea": "has 301 words; the limit is 300", "answers.motivation": "is required"}
        unknown = await client.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=lena_h,
                                   json={"answers": {"price": 5}})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "answers.price"

        await client.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=lena_h,
                         json={"answers": {"idea": "Transcribe and triage calls in real time.", "motivation": "We answered 112 calls."}})
        first = await client.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=lena_h)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "submitted" and first.json()["stages"][0]["version"] == 1

        # Edited and resubmitted until the deadline: both versions are kept.
        traveller.shift(timedelta(days=3))
        await client.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=lena_h,
                         json={"answers": {"idea": "Transcribe, translate and triage calls in real time."}})
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=lena_h)).json()["stages"][0]["status"] == "draft"
        second = await client.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=lena_h)
        assert [v["version"] for v in second.json()["stages"][0]["versions"]] == [1, 2]

        # A competitor's proposal and a second company's, rejected later.
        other = await make_user("company_member")
        other_h = await token_for(other)
        other_pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=other_h)).json()["id"]
        spec = engine.latest("light").stage("expression_of_interest")
        await client.put(f"/api/v1/proposals/{other_pid}/stages/expression_of_interest", headers=other_h,
                         json={"answers": valid_answers(spec)})
        assert (await client.post(f"/api/v1/proposals/{other_pid}/stages/expression_of_interest/submit", headers=other_h)).status_code == 200
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=rival_h)).status_code == 404
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=civil)).status_code == 404, "sealed before the deadline"

        # At the deadline, by the server's clock: refused.
        closes = (await stage_row(challenge, "expression_of_interest"))["closes_at"]
        traveller.move_to(closes)
        late = await client.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=lena_h)
        assert late.status_code == 409 and "deadline" in late.json()["detail"]
        assert (await client.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=lena_h,
                                 json={"answers": {"idea": "late"}})).status_code == 409
        await advance_stage_deadlines()  # (the refused submission above already moved it forward)
        assert await advance_stage_deadlines() == 0, "idempotent"
        assert (await stage_row(challenge, "expression_of_interest"))["status"] == "evaluation"

        # The buyer reads the submitted version, decides with feedback, and closes the stage.
        seen = await client.get(f"/api/v1/proposals/{pid}", headers=civil)
        assert seen.status_code == 200
        assert seen.json()["stages"][0]["answers"]["idea"] == "Transcribe, translate and triage calls in real time."
        listed = await client.get(f"/api/v1/challenges/{challenge.id}/proposals?stage=expression_of_interest", headers=civil)
        assert {i["id"] for i in listed.json()["items"]} == {pid, other_pid}
        no_feedback = await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                                         json={"stage": "expression_of_interest", "outcome": "advance", "feedback": "  "})
        assert no_feedback.status_code == 422 and no_feedback.json()["errors"][0]["field"] == "feedback"
        ok = await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                               json={"stage": "expression_of_interest", "outcome": "advance", "feedback": "A clear, testable idea."})
        assert ok.status_code == 201, ok.text
        blocked = await client.post(f"/api/v1/challenges/{challenge.id}/stages/expression_of_interest/close", headers=civil)
        assert blocked.status_code == 409
        assert blocked.json()["errors"] == [{"field": f"proposals.{other_pid}", "message": "has no decision with feedback"}]
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=lena_h)).json()["stages"][0]["decision"] is None, \
            "the company hears of the decision when the stage closes"
        await client.post(f"/api/v1/proposals/{other_pid}/decisions", headers=civil,
                          json={"stage": "expression_of_interest", "outcome": "reject", "feedback": "The approach is not new."})
        closed = await client.post(f"/api/v1/challenges/{challenge.id}/stages/expression_of_interest/close", headers=civil)
        assert closed.status_code == 200, closed.text
        assert closed.json() == {"challenge_id": str(challenge.id), "stage": "expression_of_interest", "status": "decided",
                                 "advanced": 1, "rejected": 1, "next_stage": "short_proposal"}
        mails = await OutboxMessage.select(OutboxMessage.to_address, OutboxMessage.body_text).where(OutboxMessage.kind == "proposal_decision")
        assert {m["to_address"] for m in mails} == {lena.email, other.email}
        assert any("The approach is not new." in m["body_text"] for m in mails if m["to_address"] == other.email)
        assert not any("The approach is not new." in m["body_text"] for m in mails if m["to_address"] == lena.email)
        assert await Notification.count().where(Notification.user == lena.id) == 1
        mine = (await client.get(f"/api/v1/proposals/{pid}", headers=lena_h)).json()
        assert mine["status"] == "advanced" and mine["current_stage"] == "short_proposal"
        assert mine["stages"][0]["decision"]["feedback"] == "A clear, testable idea."
        assert mine["next"]["kind"] == "stage_opens"
        assert (await client.get(f"/api/v1/proposals/{other_pid}", headers=other_h)).json()["status"] == "rejected"

        # The next stage opens by itself at its date, pre-filled from the first stage.
        opens = (await stage_row(challenge, "short_proposal"))["opens_at"]
        traveller.move_to(opens)
        assert await advance_stage_deadlines() == 1
        short = (await client.get(f"/api/v1/proposals/{pid}", headers=lena_h)).json()
        assert short["next"]["kind"] == "deadline"
        sp = await client.put(f"/api/v1/proposals/{pid}/stages/short_proposal", headers=lena_h, json={"answers": {}})
        assert sp.json()["stages"][1]["answers"] == {"approach": "Transcribe, translate and triage calls in real time."}
        assert (await client.put(f"/api/v1/proposals/{other_pid}/stages/short_proposal", headers=other_h, json={"answers": {}})).status_code == 409
        await client.put(f"/api/v1/proposals/{pid}/stages/short_proposal", headers=lena_h, json={"answers": {
            "experiment_plan": "Two centres, four weeks.", "price": {"amount": 3_500_000, "currency": "EUR"},
            "milestones": [{"title": "Pilot", "amount": {"amount": 1_000_000, "currency": "EUR"}, "deliverable": ""}]}})
        over = await client.post(f"/api/v1/proposals/{pid}/stages/short_proposal/submit", headers=lena_h)
        assert {e["field"] for e in over.json()["errors"]} == {"answers.price", "answers.milestones[0].deliverable"}
        # A price that is not what the milestones add up to is refused, named on the price field.
        await client.put(f"/api/v1/proposals/{pid}/stages/short_proposal", headers=lena_h, json={"answers": {
            "price": {"amount": 1_600_000, "currency": "EUR"},
            "milestones": [{"title": "Pilot", "amount": {"amount": 1_500_000, "currency": "EUR"}, "deliverable": "A report"}]}})
        mismatch = await client.post(f"/api/v1/proposals/{pid}/stages/short_proposal/submit", headers=lena_h)
        assert mismatch.status_code == 422
        assert [(e["field"], "milestones add up to" in e["message"]) for e in mismatch.json()["errors"]] == [("answers.price", True)]
        await client.put(f"/api/v1/proposals/{pid}/stages/short_proposal", headers=lena_h, json={"answers": {
            "price": {"amount": 2_500_000, "currency": "EUR"},
            "milestones": [{"title": "Pilot", "amount": {"amount": 2_500_000, "currency": "EUR"}, "deliverable": "A report"}]}})
        assert (await client.post(f"/api/v1/proposals/{pid}/stages/short_proposal/submit", headers=lena_h)).status_code == 200

        # Withdrawal ends it.
        assert (await client.post(f"/api/v1/proposals/{pid}/withdraw", headers=rival_h)).status_code == 404
        withdrawn = await client.post(f"/api/v1/proposals/{pid}/withdraw", headers=lena_h)
        assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["next"] is None
        # Lena withdrew: only the other company is still a bidder to tell about an amendment.
        assert await services.companies_with_proposals(challenge.id) == [str(other.org.id)]
    finally:
        travel.stop()


async def test_an_incubator_starts_a_proposal_only_for_a_consenting_company(client):
    with time_machine.travel(T0, tick=False):
        challenge = await make_open_challenge(start=T0)
        amina = await make_user("incubator_member")
        consenting, pending = await make_org("company"), await make_org("company")
        await PortfolioLink.insert(PortfolioLink(incubator=amina.org.id, company=consenting.id, status="accepted"),
                                   PortfolioLink(incubator=amina.org.id, company=pending.id, status="pending"))
        h = await token_for(amina)
        refused = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h, json={"company_id": str(pending.id)})
        assert refused.status_code == 403
        missing = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "company_id"
        made = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h, json={"company_id": str(consenting.id)})
        assert made.status_code == 201 and made.json()["company"]["id"] == str(consenting.id)
        mine = await client.get("/api/v1/me/proposals", headers=h)
        assert [p["id"] for p in mine.json()["items"]] == [made.json()["id"]]
        civil = await make_user("civil_servant")
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=await token_for(civil))).status_code == 403


async def walk_to_stage(client, challenge, traveller, headers, civil, pid, target: str) -> None:
    """Submit, decide `advance` and close every stage before `target`, moving the clock as needed."""
    template = engine.latest(challenge.procedure_template)
    for spec in template.stages:
        if spec.key == target:
            return
        await submit_valid(client, pid, spec, headers)
        await advance_past(client, challenge, traveller, civil, pid, spec)


async def advance_past(client, challenge, traveller, civil, pid, spec, others=()) -> None:
    """From a submitted stage: to its deadline, decide `advance` (for `pid` and the `others`), close it, and on
    to the next stage's opening (after a paid stage: once its contracts are done)."""
    template = engine.latest(challenge.procedure_template)
    closes = (await stage_row(challenge, spec.key))["closes_at"]
    if datetime.now(UTC) < closes:
        traveller.move_to(closes)
    await advance_stage_deadlines()
    for one in (pid, *others):
        r = await client.post(f"/api/v1/proposals/{one}/decisions", headers=civil,
                              json={"stage": spec.key, "outcome": "advance", "feedback": "Well argued."})
        assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/challenges/{challenge.id}/stages/{spec.key}/close", headers=civil)
    assert r.status_code == 200, r.text
    following = template.next_stage(spec.key)
    if spec.paid:  # the selected proposals' phase contracts come first, then the next stage opens to them
        from tests.factories_phases import complete_paid_stage

        await complete_paid_stage(client, challenge, traveller, spec)
    if following:
        opens = (await stage_row(challenge, following.key))["opens_at"]
        if datetime.now(UTC) < opens:
            traveller.move_to(opens)
        await advance_stage_deadlines()


async def submit_valid(client, pid, spec, headers) -> None:
    r = await client.put(f"/api/v1/proposals/{pid}/stages/{spec.key}", headers=headers, json={"answers": valid_answers(spec)})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/proposals/{pid}/stages/{spec.key}/submit", headers=headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("template", ["light", "two-phase", "open-call"])
async def test_every_template_runs_end_to_end_to_a_selected_proposal(client, template):
    travel = time_machine.travel(T0, tick=False)
    traveller = travel.start()
    try:
        buyer = await make_org("public_body")
        civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
        challenge = await make_open_challenge(buyer, template=template, start=T0)
        member = await make_user("company_member")
        h = await token_for(member)
        pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
        last = engine.latest(template).stages[-1]
        await walk_to_stage(client, challenge, traveller, h, civil, pid, last.key)
        await submit_valid(client, pid, last, h)
        closes = (await stage_row(challenge, last.key))["closes_at"]
        traveller.move_to(closes - SECOND)
        assert (await client.post(f"/api/v1/proposals/{pid}/stages/{last.key}/submit", headers=h)).status_code == 200
        early = await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                                  json={"stage": last.key, "outcome": "advance", "feedback": "Convincing."})
        assert early.status_code in (404, 409), "no decision before the deadline"
        traveller.move_to(closes)
        assert (await client.post(f"/api/v1/proposals/{pid}/stages/{last.key}/submit", headers=h)).status_code == 409
        await advance_stage_deadlines()
        await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                          json={"stage": last.key, "outcome": "advance", "feedback": "Convincing."})
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/stages/{last.key}/close", headers=civil)).status_code == 200
        final = (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()
        assert final["status"] == "selected"
        assert final["next"]["kind"] == "award"
        await services.mark_awarded(pid)
        awarded = (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()
        assert awarded["status"] == "awarded" and awarded["next"]["kind"] == "contract"
    finally:
        travel.stop()
