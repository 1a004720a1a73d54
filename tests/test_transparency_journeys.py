"""Every procedure template's whole journey, through the API with a frozen clock, read back as open data: two
bidders, every stage submitted and decided, a paid intermediate stage's contracts where the template has one,
the final award, signature, delivery, acceptance and payout. The record of each contracting process passes the
OCDS schema and the Open Contracting Partnership's data review (libcoveocds, offline) without an error; the
two-phase template's paid phase is a second process linked both ways; every payout is a transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace.payments import payouts
from marketplace.payments.tables import Payout
from marketplace.procedures import engine
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.factories import make_org, make_user, token_for
from tests.factories_payments import onboard_company, route_payments_to, top_up
from tests.factories_phases import award_paid_stage, sign_and_deliver
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row
from tests.factories_transparency import data_review, ocds_errors
from tests.test_procedures_design_sprint import MIXED, submit_step
from tests.test_proposals_journey import submit_valid

T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
NO_ERROR = {"validation": [], "conformance": {}, "closed_codelists": {}}


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


async def decide_stage(client, challenge, clock, civil, spec, outcomes: dict[str, str]) -> None:
    """To the stage's deadline; each proposal's decision with its feedback; the stage closed."""
    closes = (await stage_row(challenge, spec.key))["closes_at"]
    if datetime.now(UTC) < closes:
        clock.move_to(closes)
    await advance_stage_deadlines()
    for pid, outcome in outcomes.items():
        r = await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                              json={"stage": spec.key, "outcome": outcome, "feedback": "Reasoned feedback for the team."})
        assert r.status_code == 201, r.text
    assert (await client.post(f"/api/v1/challenges/{challenge.id}/stages/{spec.key}/close", headers=civil)).status_code == 200


async def open_next(challenge, clock, template, spec) -> None:
    following = template.next_stage(spec.key)
    if following:
        opens = (await stage_row(challenge, following.key))["opens_at"]
        if datetime.now(UTC) < opens:
            clock.move_to(opens)
        await advance_stage_deadlines()


def reviewed(package: dict, kind: str) -> dict:
    assert ocds_errors(package, kind) == [], ocds_errors(package, kind)
    review = data_review(package)
    assert review["errors"] == NO_ERROR, review["errors"]
    assert review["warnings"]["fields"] == [], review["warnings"]["fields"]  # nothing outside the standard
    return package


@pytest.mark.parametrize("template_id", ["light", "two-phase", "open-call", "design-sprint"])
async def test_each_template_journey_is_open_data_the_review_finds_no_error_in(client, settings, template_id):
    template = engine.latest(template_id)
    travel = time_machine.travel(T0, tick=False)
    clock = travel.start()
    try:
        buyer = await make_org("public_body")
        civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
        sprint = template_id == "design-sprint"  # a two-day event: steps hours apart, mixed teams
        challenge = await make_open_challenge(buyer, template=template_id, start=T0, **({"gap_days": 0} if sprint else {}))
        teams = []
        for _ in range(2):
            member = await make_user("company_member")
            h = await token_for(member)
            pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
            if any("team" in s.features for s in template.stages):
                assert (await client.put(f"/api/v1/proposals/{pid}/team", headers=h, json={"members": MIXED})).status_code == 200
            teams.append({"pid": pid, "h": h, "member": member})
        winner, other = teams

        phase_contracts: list[dict] = []
        for spec in template.stages:  # both teams take part everywhere; the last stage selects the winner only
            for team in teams:
                if sprint:
                    await submit_step(client, team["pid"], team["h"], spec.key)
                else:
                    await submit_valid(client, team["pid"], spec, team["h"])
            last = spec is template.stages[-1]
            if spec.decision == "continue":  # a sprint step: every team that submitted goes on at the deadline
                clock.move_to((await stage_row(challenge, spec.key))["closes_at"])
                await advance_stage_deadlines()
                continue
            await decide_stage(client, challenge, clock, civil, spec,
                               {winner["pid"]: "advance", other["pid"]: "reject" if last else "advance"})
            if spec.paid and not last:  # a paid phase: its contracts are awarded, signed, delivered, accepted
                phase_contracts = await award_paid_stage(client, challenge, clock, spec)
                await sign_and_deliver(client, phase_contracts)
            await open_next(challenge, clock, template, spec)

        # The final award, its contract signed, every milestone delivered and accepted.
        final = await award_paid_stage(client, challenge, clock, template.stages[-1], amounts=(1_200_000, 800_000),
                                       only={winner["pid"]})
        await sign_and_deliver(client, final)
        await top_up(100_000_000)
        onboarded = set()
        for c in [*phase_contracts, *final]:  # each company sets up its payouts once
            if c["member"].org.id not in onboarded:
                onboarded.add(c["member"].org.id)
                await onboard_company(client, c["member"], c["company"])
        paid = await payouts.execute_due_payouts()
        assert paid == 2 * (len(phase_contracts) + 1)
        assert {p["status"] for p in await Payout.select(Payout.status)} == {"paid"}
        clock.move_to(datetime.now(UTC) + timedelta(minutes=1))

        ocid = f"{settings.ocds_ocid_prefix}-{challenge.id}"
        record = reviewed((await client.get(f"/api/v1/opendata/ocds/records/{ocid}")).json(), "record-package")
        releases = reviewed((await client.get("/api/v1/opendata/ocds/releases")).json(), "release-package")
        compiled = record["records"][0]["compiledRelease"]
        assert [m["code"] for m in compiled["tender"]["milestones"]] == [s.key for s in template.stages]
        assert compiled["tender"]["numberOfTenderers"] == 2
        [award] = compiled["awards"]
        [contract] = compiled["contracts"]
        assert award["suppliers"][0]["id"] and contract["awardID"] == award["id"] and contract["dateSigned"]
        transactions = contract["implementation"]["transactions"]
        assert sorted(t["value"]["amount"] for t in transactions) == [8000.0, 12000.0]  # paid in the same round: any order
        assert {t["value"]["currency"] for t in transactions} == {"EUR"}
        assert all(t["id"].startswith("tr_") for t in transactions)
        sealed = json.dumps(releases)
        assert "Reasoned feedback" not in sealed and "score" not in sealed.lower()

        phases = [s for s in template.stages[:-1] if s.paid]
        assert [p["identifier"] for p in compiled.get("relatedProcesses", [])] == [f"{ocid}-{s.key}" for s in phases]
        for spec in phases:  # the two-phase template: the paid phase is a contracting process of its own
            phase = reviewed((await client.get(f"/api/v1/opendata/ocds/records/{ocid}-{spec.key}")).json(), "record-package")
            phase_release = phase["records"][0]["compiledRelease"]
            assert phase_release["relatedProcesses"][0]["identifier"] == ocid
            assert len(phase_release["awards"]) == len(phase_contracts) == 2
            assert sum(len(c["implementation"]["transactions"]) for c in phase_release["contracts"]) == 4
        assert {r["ocid"] for r in releases["releases"]} == {ocid, *(f"{ocid}-{s.key}" for s in phases)}
    finally:
        travel.stop()
