"""The two-phase template end to end, through the API with a frozen clock: phase-1 feasibility contracts
(award, standstill, contract, experiment, milestones accepted and paid) before the prototype stage opens,
the prototype stage open only to the phase-1 contractors, then the final award."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine

from marketplace.awards.tables import Award
from marketplace.challenges.tables import Challenge
from marketplace.payments import payouts
from marketplace.payments.tables import Payout
from marketplace.procedures import engine
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.factories import make_org, make_user, token_for
from tests.factories_contracts import award_body
from tests.factories_payments import onboard_company, route_payments_to, top_up
from tests.factories_phases import award_paid_stage, sign_and_deliver
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row, valid_answers
from tests.test_proposals_journey import submit_valid

T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)


def proposal(pid):
    return SimpleNamespace(id=pid)

TWO = engine.latest("two-phase")
FEASIBILITY, PROTOTYPE = TWO.stage("feasibility"), TWO.stage("prototype")


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


async def test_phase_one_contracts_are_paid_before_the_prototype_stage_opens_to_their_holders(client):
    travel = time_machine.travel(T0, tick=False)
    clock = travel.start()
    try:
        buyer = await make_org("public_body")
        civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
        challenge = await make_open_challenge(buyer, template="two-phase", start=T0)
        teams = {}
        for name in ("alpha", "beta", "gamma", "delta"):
            member = await make_user("company_member")
            h = await token_for(member)
            pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
            await submit_valid(client, pid, FEASIBILITY, h)
            teams[name] = {"pid": pid, "h": h, "member": member}

        # Phase 1 is decided: alpha, beta and delta are selected; gamma is not.
        clock.move_to((await stage_row(challenge, FEASIBILITY.key))["closes_at"])
        await advance_stage_deadlines()
        for name, outcome in (("alpha", "advance"), ("beta", "advance"), ("delta", "advance"), ("gamma", "reject")):
            r = await client.post(f"/api/v1/proposals/{teams[name]['pid']}/decisions", headers=civil,
                                  json={"stage": FEASIBILITY.key, "outcome": outcome, "feedback": "Reasoned feedback."})
            assert r.status_code == 201, r.text
        assert r.json()["stages"][0]["decision_rule"].startswith("Award: the proposals you advance are selected for a contract (at most 5).")
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/stages/{FEASIBILITY.key}/close", headers=civil)).status_code == 200

        # The prototype stage's date comes, but it waits for the phase-1 contracts.
        clock.move_to((await stage_row(challenge, PROTOTYPE.key))["opens_at"])
        await advance_stage_deadlines()
        assert (await stage_row(challenge, PROTOTYPE.key))["status"] == "pending"

        # Phase-1 contracts (only alpha and beta are awarded), within the stage's 25 % of the cap.
        officer = await token_for(await make_user("procurement_officer", org=buyer))
        delta = await Award.count()
        too_big = await client.post(f"/api/v1/challenges/{challenge.id}/awards", headers=officer,
                                    json=award_body(proposal(teams["alpha"]["pid"]), (500_000, 300_000)))
        assert too_big.status_code == 422
        assert "exceeds the stage 'feasibility' share of the budget cap: 25% = €7,500.00" in too_big.json()["errors"][0]["message"]
        assert await Award.count() == delta
        contracts = await award_paid_stage(client, challenge, clock, FEASIBILITY, only={teams["alpha"]["pid"], teams["beta"]["pid"]})
        assert {c["proposal"] for c in contracts} == {teams["alpha"]["pid"], teams["beta"]["pid"]}
        assert (await Challenge.select(Challenge.status).where(Challenge.id == challenge.id).first())["status"] == "published"
        assert {a["stage"] for a in await Award.select(Award.stage)} == {"feasibility"}
        await advance_stage_deadlines()
        assert (await stage_row(challenge, PROTOTYPE.key))["status"] == "pending", "contracts issued but not yet delivered"
        told = (await client.get(f"/api/v1/proposals/{teams['alpha']['pid']}", headers=teams["alpha"]["h"])).json()["next"]
        assert told["text"] == ("Your contract of 'Phase 1: feasibility' comes first: 'Phase 2: prototype' opens to its contractors "
                                "once their milestones are accepted.")

        # Each team delivers; the buyer accepts every milestone; the payouts are paid through Stripe Connect.
        await sign_and_deliver(client, contracts[:1])
        await advance_stage_deadlines()
        assert (await stage_row(challenge, PROTOTYPE.key))["status"] == "pending", "one contract still runs"
        await sign_and_deliver(client, contracts[1:])
        await top_up(10_000_000)
        for c in contracts:
            await onboard_company(client, c["member"], c["company"])
        assert await payouts.execute_due_payouts() == 4
        assert [p["status"] for p in await Payout.select(Payout.status)] == ["paid"] * 4
        await advance_stage_deadlines()
        assert (await stage_row(challenge, PROTOTYPE.key))["status"] == "open"

        # Phase 2 is open to the phase-1 contractors only.
        told = (await client.get(f"/api/v1/proposals/{teams['alpha']['pid']}", headers=teams["alpha"]["h"])).json()["next"]
        assert told["text"] == "Submit 'Phase 2: prototype' before the deadline"
        for name in ("alpha", "beta"):
            await submit_valid(client, teams[name]["pid"], PROTOTYPE, teams[name]["h"])
        for name in ("gamma", "delta"):
            r = await client.put(f"/api/v1/proposals/{teams[name]['pid']}/stages/{PROTOTYPE.key}", headers=teams[name]["h"],
                                 json={"answers": valid_answers(PROTOTYPE)})
            assert r.status_code == 409, (name, r.text)
        assert r.json()["errors"] == [{"field": "stage", "message": "opens only to the contractors of `feasibility`"}]

        # The prototype stage is decided and awarded: the final contract.
        clock.move_to((await stage_row(challenge, PROTOTYPE.key))["closes_at"])
        await advance_stage_deadlines()
        for name, outcome in (("alpha", "advance"), ("beta", "reject")):
            r = await client.post(f"/api/v1/proposals/{teams[name]['pid']}/decisions", headers=civil,
                                  json={"stage": PROTOTYPE.key, "outcome": outcome, "feedback": "Reasoned feedback."})
            assert r.status_code == 201, r.text
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/stages/{PROTOTYPE.key}/close", headers=civil)).status_code == 200
        final = await client.post(f"/api/v1/challenges/{challenge.id}/awards", headers=officer,
                                  json=award_body(proposal(teams["alpha"]["pid"]), (1_000_000, 1_000_000)))
        assert final.status_code == 201, final.text
        assert sorted(a["stage"] for a in await Award.select(Award.stage)) == ["feasibility", "feasibility", "prototype"]
        assert (await Challenge.select(Challenge.status).where(Challenge.id == challenge.id).first())["status"] == "awarded"
        again = await client.post(f"/api/v1/challenges/{challenge.id}/awards", headers=officer,
                                  json=award_body(proposal(teams["alpha"]["pid"]), (100_000,)))
        assert again.status_code == 409, "once per stage"
    finally:
        travel.stop()
