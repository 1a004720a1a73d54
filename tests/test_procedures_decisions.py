"""Each decision kind does what its name says: `shortlist` advances up to `max_selected`, `pass_fail`
advances every proposal that meets the bar (no cap), `award` selects for a contract; the API and the
decision form say which applies."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from marketplace.procedures import engine
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row
from tests.test_proposals_journey import submit_valid

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def guide_example(decision: str = "pass_fail") -> engine.ProcedureTemplate:
    """The author's guide's worked example (its first stage decided by `decision`)."""
    guide = (engine.PROCEDURES_DIR / "README.md").read_text(encoding="utf-8")
    text = re.search(r"## Worked example.*?```toml\n(.*?)```", guide, re.S).group(1)
    if decision == "shortlist":
        text = text.replace('decision = "pass_fail"', 'decision = "shortlist"\nmax_selected = 2')
    return engine.parse_template(text, "README.md")


@pytest.fixture
def with_template(monkeypatch):
    def use(template: engine.ProcedureTemplate) -> engine.ProcedureTemplate:
        shipped = dict(engine.load_templates())
        monkeypatch.setattr(engine, "load_templates", lambda *a: {**shipped, (template.id, template.version): template})
        return template
    return use


async def four_submitted_ideas(client, template):
    buyer = await make_org("public_body")
    civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
    challenge = await make_open_challenge(buyer, template=template.id, start=T0)
    spec = template.stages[0]
    pids = []
    for _ in range(4):
        h = await token_for(await make_user("company_member"))
        pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
        await submit_valid(client, pid, spec, h)
        pids.append(pid)
    return challenge, civil, spec, pids


async def decide(client, civil, pid, stage, outcome="advance"):
    return await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                             json={"stage": stage, "outcome": outcome, "feedback": "Meets the bar."})


async def test_pass_fail_advances_every_proposal_that_meets_the_bar(client, with_template):
    template = with_template(guide_example("pass_fail"))
    with time_machine.travel(T0, tick=False) as clock:
        challenge, civil, spec, pids = await four_submitted_ideas(client, template)
        clock.move_to((await stage_row(challenge, spec.key))["closes_at"])
        await advance_stage_deadlines()
        for pid in pids:
            r = await decide(client, civil, pid, spec.key)
            assert r.status_code == 201, r.text
        stage = r.json()["stages"][0]
        assert (stage["decision_kind"], stage["max_advancing"]) == ("pass_fail", None)
        assert stage["decision_rule"] == "Pass or fail: every proposal that meets the bar advances; there is no limit."
        closed = await client.post(f"/api/v1/challenges/{challenge.id}/stages/{spec.key}/close", headers=civil)
        assert closed.json()["advanced"] == 4


async def test_a_shortlist_advances_at_most_max_selected(client, with_template):
    template = with_template(guide_example("shortlist"))
    with time_machine.travel(T0, tick=False) as clock:
        challenge, civil, spec, pids = await four_submitted_ideas(client, template)
        clock.move_to((await stage_row(challenge, spec.key))["closes_at"])
        await advance_stage_deadlines()
        assert (await decide(client, civil, pids[0], spec.key)).status_code == 201
        assert (await decide(client, civil, pids[1], spec.key)).status_code == 201
        third = await decide(client, civil, pids[2], spec.key)
        assert third.status_code == 409
        assert third.json()["errors"] == [{"field": "outcome", "message": "at most 2 proposals may advance (shortlist)"}]
        assert (await decide(client, civil, pids[2], spec.key, "reject")).status_code == 201
        assert (await decide(client, civil, pids[1], spec.key, "reject")).status_code == 201
        assert (await decide(client, civil, pids[2], spec.key)).status_code == 201, "a freed place can be given"
        stage = (await client.get(f"/api/v1/proposals/{pids[0]}", headers=civil)).json()["stages"][0]
        assert (stage["decision_kind"], stage["max_advancing"]) == ("shortlist", 2)


async def test_an_award_stage_selects_for_a_contract_and_the_form_says_so(client, app):
    from tests.test_procedures_features import Pages

    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        civil = await token_for(team["civil_servant"])
        challenge = await make_open_challenge(buyer, template="open-call", start=T0)
        h = await token_for(await make_user("company_member"))
        pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
        spec = engine.latest("open-call").stages[0]
        await submit_valid(client, pid, spec, h)
        clock.move_to((await stage_row(challenge, spec.key))["closes_at"])
        await advance_stage_deadlines()
        page = await Pages(app, team["civil_servant"], None).get_page(team["civil_servant"], f"/proposals/{pid}")
        assert "Award: the proposals you advance are selected for a contract (at most 1)." in page
        assert (await decide(client, civil, pid, spec.key)).status_code == 201
        await client.post(f"/api/v1/challenges/{challenge.id}/stages/{spec.key}/close", headers=civil)
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()["status"] == "selected"


def test_the_shipped_templates_declare_their_decisions():
    assert Path(engine.PROCEDURES_DIR / "light.toml").exists()
    light, two = engine.latest("light"), engine.latest("two-phase")
    assert [s.decision for s in light.stages] == ["shortlist", "shortlist", "award"]
    assert [engine.advance_cap(s) for s in light.stages] == [6, 3, None]
    assert two.stage("feasibility").paid and two.stage("feasibility").cap_percent == 25
