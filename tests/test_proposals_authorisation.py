"""Every proposals and evaluation endpoint, allowed and refused: roles outside the rule get 403 from
the guard; people with the right role but no link to the challenge get 404 (sealed things never 403)."""

from datetime import UTC, datetime

import pytest
import time_machine

from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import (
    make_buyer_team,
    make_evaluator,
    make_open_challenge,
    make_proposal,
    stage_row,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def world():
    """A challenge past its first deadline with one submitted proposal, and people in every relation to it."""
    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, start=T0)
        proposal = await make_proposal(challenge, status="submitted", answers={"idea": "x", "team": "y", "motivation": "z"})
        member = await make_user("company_member", org=proposal.company_org)
        evaluator = await make_evaluator(challenge, buyer)
        people = {
            "member": member, "competitor": await make_user("company_member"), "incubator": await make_user("incubator_member"),
            "civil_servant": team["civil_servant"], "officer": team["procurement_officer"], "evaluator": evaluator,
            "other_civil_servant": await make_user("civil_servant"), "other_evaluator": await make_user("evaluator"),
            "invited_expert": await make_user("evaluator"),
        }
        headers = {k: await token_for(u) for k, u in people.items()}
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"])
        yield {"challenge": challenge, "proposal": proposal, "h": headers, "people": people}


def cases(w):
    c, p = w["challenge"].id, w["proposal"].id
    eoi = "expression_of_interest"
    return [
        # (method, path, body, {role: expected status})
        ("GET", f"/api/v1/proposals/{p}", None,
         {"member": 200, "civil_servant": 200, "officer": 200, "evaluator": 200, "competitor": 404, "incubator": 404,
          "other_civil_servant": 404, "other_evaluator": 404}),
        ("GET", "/api/v1/me/proposals", None, {"member": 200, "incubator": 200, "civil_servant": 403, "evaluator": 403}),
        ("POST", f"/api/v1/challenges/{c}/proposals", {}, {"civil_servant": 403, "evaluator": 403, "member": 409}),
        ("PUT", f"/api/v1/proposals/{p}/stages/{eoi}", {"answers": {}}, {"member": 409, "competitor": 404, "civil_servant": 403}),
        ("POST", f"/api/v1/proposals/{p}/stages/{eoi}/submit", None, {"member": 409, "competitor": 404, "evaluator": 403}),
        ("GET", f"/api/v1/challenges/{c}/proposals", None,
         {"civil_servant": 200, "officer": 200, "evaluator": 200, "other_civil_servant": 404, "other_evaluator": 404, "member": 403}),
        ("POST", f"/api/v1/proposals/{p}/decisions", {"stage": eoi, "outcome": "advance", "feedback": "Good."},
         {"civil_servant": 201, "other_civil_servant": 404, "officer": 403, "evaluator": 403, "member": 403}),
        ("POST", f"/api/v1/challenges/{c}/stages/{eoi}/close", None,
         {"other_civil_servant": 404, "officer": 403, "evaluator": 403, "member": 403}),
        ("GET", f"/api/v1/challenges/{c}/criteria", None,
         {"civil_servant": 200, "evaluator": 200, "other_civil_servant": 404, "other_evaluator": 404, "member": 403}),
        ("PUT", f"/api/v1/challenges/{c}/criteria", [], {"civil_servant": 200, "other_civil_servant": 404, "officer": 403, "evaluator": 403}),
        ("PUT", f"/api/v1/challenges/{c}/evaluation", {"blind_first_round": False},
         {"civil_servant": 200, "other_civil_servant": 404, "officer": 403, "member": 403}),
        ("POST", f"/api/v1/challenges/{c}/evaluators", {"user_id": str(w["people"]["invited_expert"].id)},
         {"civil_servant": 201, "other_civil_servant": 404, "officer": 403, "evaluator": 403}),
        ("GET", f"/api/v1/challenges/{c}/evaluators", None, {"civil_servant": 200, "officer": 200, "other_civil_servant": 404, "evaluator": 403}),
        ("POST", f"/api/v1/challenges/{c}/declarations", {"has_conflict": False}, {"evaluator": 201, "other_evaluator": 404, "civil_servant": 403}),
        ("PUT", f"/api/v1/proposals/{p}/scores", {"stage": eoi, "scores": [{"criterion": "team", "value": 3, "justification": "Fine."}]},
         {"evaluator": 200, "other_evaluator": 404, "civil_servant": 403, "member": 403}),
        ("GET", f"/api/v1/proposals/{p}/scores?stage={eoi}", None, {"evaluator": 200, "other_evaluator": 404, "civil_servant": 403}),
        ("GET", f"/api/v1/challenges/{c}/progress", None, {"civil_servant": 200, "officer": 200, "other_civil_servant": 404, "evaluator": 403}),
        ("GET", f"/api/v1/challenges/{c}/ranking", None, {"civil_servant": 200, "officer": 200, "other_civil_servant": 404, "evaluator": 403}),
        ("POST", f"/api/v1/proposals/{p}/withdraw", None, {"competitor": 404, "civil_servant": 403, "member": 200}),
    ]


async def test_every_endpoint_allows_its_roles_and_refuses_the_others(client, world):
    for method, path, body, expected in cases(world):
        for role, status in expected.items():
            r = await client.request(method, path, headers=world["h"][role], json=body)
            assert r.status_code == status, (method, path, role, r.status_code, r.text[:300])
        assert (await client.request(method, path, json=body)).status_code == 401, (method, path)


async def test_pages_allow_their_roles_and_refuse_the_others(app, world):
    from tests.test_proposals_pages import browser

    c, p = world["challenge"].id, world["proposal"].id
    expected = {
        "member": {f"/proposals/{p}": 200, "/proposals": 200, f"/challenges/{c}/board": 403, "/evaluations": 403},
        "competitor": {f"/proposals/{p}": 404, f"/challenges/{c}/propose": 200},
        "civil_servant": {f"/challenges/{c}/board": 200, f"/challenges/{c}/stages/expression_of_interest/report": 200, "/proposals": 403,
                          f"/proposals/{p}/score": 403},
        "other_civil_servant": {f"/challenges/{c}/board": 404, f"/proposals/{p}": 404,
                                f"/challenges/{c}/stages/expression_of_interest/report": 404},
        "evaluator": {"/evaluations": 200, f"/proposals/{p}/score": 200, f"/challenges/{c}/stages/expression_of_interest/report": 403},
        "other_evaluator": {f"/proposals/{p}/score": 404, f"/challenges/{c}/declaration": 404, f"/challenges/{c}/board": 404},
    }
    for role, pages in expected.items():
        async with browser(app, world["people"][role]) as b:
            for path, status in pages.items():
                r = await b.get(path)
                assert r.status_code == status, (role, path, r.status_code)
