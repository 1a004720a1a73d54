"""Demo proposals on the 112 triage challenge: its expression-of-interest stage is over and decided
with feedback for every company, the short-proposal stage is open, and the five demo companies are at
different points (advanced and drafting, submitted, not started, rejected, drafted by an incubator).

Idempotent: nothing is added when the challenge already has proposals."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import now
from marketplace.proposals.tables import Decision, Proposal, ProposalStage, ProposalStageVersion

EOI = {
    "triage_ai": ("lena", {
        "idea": "A speech model listens alongside the call-taker and flags signs of a life-threatening emergency (no breathing, "
                "chest pain, heavy bleeding) within the first 20 seconds, in Dutch, French and German. The call-taker stays in charge; "
                "flagged calls jump the queue.",
        "team": "Two former 112 call-takers and a speech scientist from KU Leuven; we built triage support for a Dutch out-of-hours service.",
        "motivation": "We have sat in those queues ourselves during storms. Seconds matter and the signs are audible.",
    }, "advance", "A clear, testable idea that keeps the call-taker in charge. In the short proposal, show how you will measure false alarms."),
    "geo_mobility": ("thomas", {
        "idea": "Route callers to the least busy emergency centre in real time, using the location of their phone.",
        "team": "GeoFlow builds routing software for logistics fleets.",
        "motivation": "Load balancing is what we know best.",
    }, "reject", "Calls are already overflowed between centres; the problem is knowing which call is urgent, not where it goes. "
                 "Thank you: we would welcome your ideas on the call-peak forecasting challenge announced for next month."),
    "civic_data": ("eva", {
        "idea": "A triage dashboard that clusters incoming calls by place and keywords, so that ten calls about the same accident are "
                "recognised as one incident and the other callers are not left waiting.",
        "team": "Civic Data Works: eight data engineers who built the open-data portal of two Flemish provinces.",
        "motivation": "Public services deserve the tools private call centres have had for years.",
    }, "advance", "Duplicate calls during large incidents are a real part of the peaks. Explain how the clusters are checked by a person."),
    "sensor_city": ("noah", {
        "idea": "Connect smart-building fire and fall sensors directly to the 112 queue with a severity score, so that automatic alarms "
                "do not wait behind people.",
        "team": "SensorCity SA, 40 people, certified alarm receiving centre software.",
        "motivation": "Automatic alarms are a growing share of the traffic.",
    }, "advance", "Interesting angle on machine-generated calls. The short proposal must show the severity score on real alarm data."),
    "lingua_bridge": ("julie", {
        "idea": "Live interpretation for callers who speak none of the national languages, with the key triage questions asked first.",
        "team": "LinguaBridge: interpreters and engineers; supported by the Brussels Deep Tech Incubator.",
        "motivation": "Language should never decide who gets help first.",
    }, "reject", "An important need, but outside this challenge's scope (severity triage). The City of Ghent runs a challenge on "
                 "multilingual counters that fits your solution closely."),
}

SHORT = {
    "civic_data": ({
        "approach": EOI["civic_data"][1]["idea"],
        "experiment_plan": "Four weeks in the Antwerp and Ghent centres, replaying last winter's storm calls, then two weeks live in "
                           "shadow mode. Success: 80% of duplicate calls grouped correctly, none wrongly merged.",
        "milestones": [
            {"title": "Replay on historical calls", "amount": {"amount": 1_000_000, "currency": "EUR"}, "deliverable": "Replay report"},
            {"title": "Shadow-mode pilot", "amount": {"amount": 1_400_000, "currency": "EUR"}, "deliverable": "Pilot report and dashboard"},
        ],
        "price": {"amount": 2_400_000, "currency": "EUR"},
    }, True),
    "triage_ai": ({
        "approach": EOI["triage_ai"][1]["idea"],
        "experiment_plan": "We are writing this part with the call-takers of the Leuven centre.",
    }, False),
}


async def find_112_challenge(ctx: Any) -> dict[str, Any] | None:
    """The demo's 112 challenge: published by FPS Home Affairs, its title mentioning 112."""
    org = ctx.orgs.get("fps_interior")
    if org is None:
        return None
    rows = await Challenge.select().where((Challenge.buyer == org.id) & (Challenge.status == Challenge.Status.published))
    rows = [r for r in rows if "112" in r["title"] and r["procedure_template"] == "light"]
    return rows[0] if rows else None


async def _retime(challenge: dict[str, Any], moment) -> None:  # noqa: ANN001
    """Move the challenge in time: the first stage ran and was decided; the short proposal is open."""
    day = timedelta(days=1)
    plan = {
        "expression_of_interest": (moment - 30 * day, moment - 9 * day, ChallengeStage.Status.decided, moment - 2 * day),
        "short_proposal": (moment - 2 * day, moment + 19 * day, ChallengeStage.Status.open, None),
        "pitch": (moment + 26 * day, moment + 40 * day, ChallengeStage.Status.pending, None),
    }
    for key, (opens, closes, status, decided) in plan.items():
        await ChallengeStage.update({ChallengeStage.opens_at: opens, ChallengeStage.closes_at: closes, ChallengeStage.status: status,
                                     ChallengeStage.decided_at: decided}).where(
            (ChallengeStage.challenge == challenge["id"]) & (ChallengeStage.key == key))
    await Challenge.update({Challenge.current_stage: "short_proposal", Challenge.published_at: moment - 30 * day,
                            Challenge.qa_closes_at: moment - 14 * day}).where(Challenge.id == challenge["id"])


async def _stage(proposal_id, key: str, answers: dict, submitted_at, versions: int = 1, user=None) -> None:  # noqa: ANN001
    copy = ProposalStage(proposal=proposal_id, stage=key, answers=json.dumps(answers), status="submitted" if versions else "draft",
                         version=versions, submitted_at=submitted_at if versions else None, updated_by=user)
    await copy.save()
    for v in range(1, versions + 1):
        await ProposalStageVersion.insert(ProposalStageVersion(proposal_stage=copy.id, version=v, answers=json.dumps(answers),
                                                               submitted_at=submitted_at - timedelta(days=versions - v), submitted_by=user))


async def load(ctx: Any) -> None:
    challenge = await find_112_challenge(ctx)
    if challenge is None or await Proposal.exists().where(Proposal.challenge == challenge["id"]):
        return
    moment = now()
    await _retime(challenge, moment)
    sofie = ctx.users["sofie"].id
    for company_key, (user_key, answers, outcome, feedback) in EOI.items():
        user = ctx.users[user_key].id
        incubator = ctx.orgs["bdti"].id if company_key == "lingua_bridge" else None
        created_by = ctx.users["amina"].id if incubator else user
        advanced = outcome == "advance"
        short = SHORT.get(company_key)
        status = Proposal.Status.rejected if not advanced else (Proposal.Status.submitted if short and short[1] else Proposal.Status.advanced)
        proposal = Proposal(challenge=challenge["id"], company=ctx.orgs[company_key].id, incubator=incubator, created_by=created_by,
                            status=status, current_stage="short_proposal" if advanced else "expression_of_interest",
                            created_at=moment - 25 * timedelta(days=1), updated_at=moment - timedelta(days=1))
        await proposal.save()
        await _stage(proposal.id, "expression_of_interest", answers, moment - 12 * timedelta(days=1),
                     versions=2 if company_key == "triage_ai" else 1, user=created_by)
        await Decision.insert(Decision(proposal=proposal.id, stage="expression_of_interest", outcome=outcome, feedback=feedback,
                                       decided_by=sofie, decided_at=moment - 4 * timedelta(days=1), notified_at=moment - 2 * timedelta(days=1)))
        if short:
            await _stage(proposal.id, "short_proposal", short[0], moment - timedelta(hours=5), versions=1 if short[1] else 0, user=user)
    ctx.triage_112 = challenge  # type: ignore[attr-defined]
