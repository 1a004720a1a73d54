"""Sealing, for every template and every stage, before, at and after its deadline (frozen clock):
the proposing team always; the buyer team and assigned, declared evaluators from the deadline on;
competitors and everyone else never, and they are told the proposal does not exist (404, never 403)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace.accounts.tables import PortfolioLink
from marketplace.evaluation.tables import Declaration, EvaluatorAssignment
from marketplace.procedures import engine
from tests.factories import make_org, make_user, signed_in_client, token_for
from tests.factories_proposals import (
    make_buyer_team,
    make_evaluator,
    make_open_challenge,
    make_proposal,
    stage_row,
)
from tests.test_proposals_journey import advance_past, submit_valid

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
MOMENTS = {"before": -timedelta(seconds=1), "at": timedelta(0), "after": timedelta(hours=1)}


async def cast(challenge, buyer):
    """Every role that might try to read a proposal, with its headers."""
    team = await make_buyer_team(buyer)
    company = await make_org("company")
    member = await make_user("company_member", org=company)
    incubator = await make_user("incubator_member")
    await PortfolioLink.insert(PortfolioLink(incubator=incubator.org.id, company=company.id, status="accepted"))
    other_body = await make_user("civil_servant")
    people = {
        "team": member, "incubator": incubator, "competitor": await make_user("company_member"),
        "civil_servant": team["civil_servant"], "procurement_officer": team["procurement_officer"],
        "buyer_admin": await make_user("buyer_admin", org=buyer), "unassigned_evaluator": team["evaluator"],
        "evaluator": await make_evaluator(challenge, buyer), "undeclared_evaluator": await make_evaluator(challenge, buyer, declared=False),
        "conflicted_evaluator": await make_evaluator(challenge, buyer, conflict=True), "other_body": other_body,
    }
    return {k: await token_for(u) for k, u in people.items()} | {"anonymous": {}}


def expected(role: str, sealed: bool, earlier_stage_open: bool) -> int:
    """The status a role gets for GET /proposals/{id}."""
    if role in ("team", "incubator"):
        return 200
    if role == "anonymous":
        return 401
    if role in ("competitor", "unassigned_evaluator", "conflicted_evaluator", "other_body"):
        return 404
    readable = not sealed or earlier_stage_open
    if role == "undeclared_evaluator":
        return 409 if readable else 404
    return 200 if readable else 404


@pytest.mark.parametrize("template", ["light", "two-phase", "open-call"])
async def test_sealing_for_every_role_before_at_and_after_each_deadline(client, template):
    travel = time_machine.travel(T0, tick=False)
    clock = travel.start()
    try:
        buyer = await make_org("public_body")
        challenge = await make_open_challenge(buyer, template=template, start=T0)
        headers = await cast(challenge, buyer)
        started = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=headers["team"])
        pid = started.json()["id"]
        competitor_pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=headers["competitor"])).json()["id"]
        unknown_detail = (await client.get(f"/api/v1/proposals/{uuid.uuid4()}", headers=headers["competitor"])).json()["detail"]
        tpl = engine.latest(template)
        for position, spec in enumerate(tpl.stages):
            await submit_valid(client, pid, spec, headers["team"])
            closes = (await stage_row(challenge, spec.key))["closes_at"]
            for moment, delta in MOMENTS.items():
                clock.move_to(closes + delta)
                sealed = moment == "before"
                for role, h in headers.items():
                    r = await client.get(f"/api/v1/proposals/{pid}", headers=h)
                    want = expected(role, sealed, position > 0)
                    assert r.status_code == want, (template, spec.key, moment, role, r.status_code, r.text)
                    if want == 404:
                        assert r.json()["detail"] == unknown_detail, "a sealed proposal looks exactly like a missing one"
                    if want == 200 and role not in ("team", "incubator"):
                        keys = [s["key"] for s in r.json()["stages"]]
                        assert (spec.key in keys) == (not sealed), (role, moment, keys)
                        assert all(s["status"] == "submitted" for s in r.json()["stages"])
                listing = await client.get(f"/api/v1/challenges/{challenge.id}/proposals?stage={spec.key}", headers=headers["civil_servant"])
                assert listing.status_code == (409 if sealed else 200), listing.text
                if not sealed:
                    assert [i["id"] for i in listing.json()["items"]] == [pid], "drafts never show"
                for role in ("other_body", "conflicted_evaluator", "unassigned_evaluator"):
                    r = await client.get(f"/api/v1/challenges/{challenge.id}/proposals?stage={spec.key}", headers=headers[role])
                    assert r.status_code == 404, role
                assert (await client.get(f"/api/v1/challenges/{challenge.id}/proposals", headers=headers["competitor"])).status_code == 403
                # A competitor can neither read nor touch the other's proposal, nor see its own through this one.
                for method, path, body in (("put", f"/api/v1/proposals/{pid}/stages/{spec.key}", {"answers": {}}),
                                           ("post", f"/api/v1/proposals/{pid}/stages/{spec.key}/submit", None),
                                           ("post", f"/api/v1/proposals/{pid}/withdraw", None)):
                    r = await client.request(method.upper(), path, headers=headers["competitor"], json=body)
                    assert r.status_code == 404, (method, path, r.status_code)
                assert (await client.get(f"/api/v1/proposals/{competitor_pid}", headers=headers["team"])).status_code == 404
            await advance_past(client, challenge, clock, headers["civil_servant"], pid, spec)
    finally:
        travel.stop()


async def test_nothing_about_submissions_not_even_their_number_before_the_deadline(client):
    """Before the deadline the buyer team's progress API and stage board read the same whether four
    companies submitted or none; from the deadline on the count is there."""
    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        crowded = await make_open_challenge(buyer, start=T0, title="Crowded")
        empty = await make_open_challenge(buyer, start=T0, title="Crowded")
        for _ in range(4):
            await make_proposal(crowded, status="submitted")
        ines = await make_evaluator(crowded, buyer)
        await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=empty.id, evaluator=ines.id))
        await Declaration.insert(Declaration(challenge=empty.id, evaluator=ines.id, has_conflict=False, statement=""))
        civil = await token_for(team["civil_servant"])
        clock.move_to((await stage_row(crowded, "expression_of_interest"))["closes_at"] - timedelta(seconds=1))
        await signed_in_client(client, team["civil_servant"])  # the board is a page: a session

        def seen(challenge, text: str) -> str:
            return text.replace(str(challenge.id), "ID")

        for path in ("/challenges/{}/board", "/api/v1/challenges/{}/progress"):
            views = []
            for challenge in (crowded, empty):
                r = await client.get(path.format(challenge.id), headers=civil)
                assert r.status_code == 200, r.text
                views.append(seen(challenge, r.text))
            assert views[0] == views[1], path
        progress = (await client.get(f"/api/v1/challenges/{crowded.id}/progress", headers=civil)).json()["items"]
        assert [(p["sealed"], p["proposals_total"]) for p in progress] == [(True, None)]

        clock.move_to((await stage_row(crowded, "expression_of_interest"))["closes_at"])
        progress = (await client.get(f"/api/v1/challenges/{crowded.id}/progress", headers=civil)).json()["items"]
        assert [(p["sealed"], p["proposals_total"], p["proposals_scored"]) for p in progress] == [(False, 4, 0)]
        assert "0 of 4 proposals scored" in (await client.get(f"/challenges/{crowded.id}/board", headers=civil)).text


async def test_an_evaluator_sees_no_bidder_names_nor_their_number_before_the_first_deadline(client):
    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        crowded = await make_open_challenge(buyer, start=T0, title="Same")
        empty = await make_open_challenge(buyer, start=T0, title="Same")
        bidders = [await make_proposal(crowded, status=status) for status in ("draft", "submitted", "submitted")]
        ines = await make_evaluator(crowded, buyer, declared=False)
        await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=empty.id, evaluator=ines.id))
        clock.move_to((await stage_row(crowded, "expression_of_interest"))["closes_at"] - timedelta(seconds=1))
        await signed_in_client(client, ines)
        pages = [(await client.get(f"/challenges/{c.id}/declaration")).text.replace(str(c.id), "ID") for c in (crowded, empty)]
        assert pages[0] == pages[1], "the page reads the same with three companies or none"
        assert not any(p.company_org.name in pages[0] for p in bidders)
        clock.move_to((await stage_row(crowded, "expression_of_interest"))["closes_at"])
        after = (await client.get(f"/challenges/{crowded.id}/declaration")).text
        assert all(p.company_org.name in after for p in bidders)
