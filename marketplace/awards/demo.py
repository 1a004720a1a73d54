"""Demo data: a 112 multilingual call-transcription pilot already run to the end: LinguaBridge
selected and awarded, SensorCity told with its feedback, the standstill over, the contract issued
and signed by Marc Dubois (112) and Julie Verhoeven (LinguaBridge), so its experiment runs.

It uses a proposal `selected` at the last stage of a 112 challenge when the proposals demo provides
one; otherwise it writes the minimal rows itself (a past challenge whose stages are all decided,
two proposals with their answers and decisions). Idempotent: nothing happens when the 112 body
already has an award.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from marketplace.awards import contracts, schemas, services
from marketplace.awards.tables import Award, Contract
from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.auth import load_principal
from marketplace.core.clock import now
from marketplace.core.money import Money
from marketplace.procedures import engine
from marketplace.proposals.tables import Decision, Proposal, ProposalStage

log = logging.getLogger("marketplace.awards")

TITLE = "Live transcription of 112 calls in three languages (pilot round 2026)"
SCOPE = {
    "approach": "A speech engine listens to the 112 call beside the operator, transcribes it live in Dutch, French "
                "and German, and translates it for the operator when the caller speaks another language.",
    "experiment_plan": "Eight weeks in the Leuven call room with three operators: transcripts are logged beside the "
                       "calls, never shown to callers. Success: word error rate below 12% on the replayed sample and "
                       "operators asking callers to repeat themselves half as often.",
}


async def _past_challenge(ctx) -> Challenge:
    """A 112 challenge whose light procedure has run: every stage closed and decided."""
    buyer = ctx.orgs["fps_interior"]
    existing = await Challenge.objects().where((Challenge.buyer == buyer.id) & (Challenge.title == TITLE)).first()
    if existing:
        return existing
    template = engine.latest("light")
    start = now() - timedelta(days=75)
    challenge = Challenge(
        buyer=buyer.id, created_by=ctx.users["sofie"].id, approved_by=ctx.users["marc"].id, status="published",
        title=TITLE, summary="Operators lose precious minutes on calls; can a voice assistant help them triage faster?",
        problem="112 operators triage every call by hand while the caller is often panicking, in one of three languages.",
        affected_users="Operators of the 112 call rooms and the people who call them.",
        desired_outcomes="Urgent calls dispatched faster, with no urgent call missed.",
        topics=json.dumps(["emergency services", "artificial intelligence"]), cpv_codes=json.dumps(["72212000-4"]),
        budget_cap_cents=3_000_000, max_duration_days=90, procedure_template=template.id,
        procedure_version=template.version, current_stage=template.stages[-1].key, published_at=start,
    )
    await challenge.save()
    opens = start
    for position, stage in enumerate(template.stages):
        closes = opens + timedelta(days=14)
        await ChallengeStage.insert(ChallengeStage(
            challenge=challenge.id, key=stage.key, position=position, opens_at=opens, closes_at=closes,
            status="decided", decided_at=closes + timedelta(days=3)))
        opens = closes + timedelta(days=5)
    return challenge


async def _proposal(challenge: Challenge, company, status: str, feedback: str, answers: dict) -> Proposal:
    """Both bids answered the expression of interest (65 days ago) and the short proposal (45 days ago), inside
    the stages of `_past_challenge`; the short proposal was decided 39 days ago, the pitch 20 days ago."""
    proposal = Proposal(challenge=challenge.id, company=company.id, status=status, current_stage="pitch")
    await proposal.save()
    for key, days_ago in (("expression_of_interest", 65), ("short_proposal", 45)):
        await ProposalStage.insert(ProposalStage(proposal=proposal.id, stage=key, answers=json.dumps(answers),
                                                 status="submitted", version=1, submitted_at=now() - timedelta(days=days_ago)))
    decided = now() - timedelta(days=20 if status == "selected" else 39)
    await Decision.insert(Decision(proposal=proposal.id, stage="pitch" if status == "selected" else "short_proposal",
                                   outcome="advance" if status == "selected" else "reject", feedback=feedback,
                                   decided_at=decided, notified_at=decided))
    return proposal


async def _selected_proposal(ctx) -> Proposal:
    """A selected proposal of the 112 body at a decided last stage: the proposals demo's, or our own."""
    rows = await Proposal.objects().where(
        (Proposal.status == Proposal.Status.selected) & (Proposal.challenge.buyer == ctx.orgs["fps_interior"].id))
    for proposal in rows:
        challenge = await services.get_challenge(proposal.challenge)
        stage = await services.last_stage(challenge)
        if stage is not None and stage["status"] == "decided":
            return proposal
    challenge = await _past_challenge(ctx)
    await _proposal(challenge, ctx.orgs["sensor_city"], "rejected",
                    "Good hardware, but the plan measured microphones rather than transcripts, and it needs twelve "
                    "weeks where the test allows eight.", {"approach": "Array microphones in every call room."})
    return await _proposal(challenge, ctx.orgs["lingua_bridge"], "selected",
                           "The clearest experiment plan, a measurable target and a team that has worked in call rooms.",
                           SCOPE)


async def load(ctx) -> None:
    buyer = ctx.orgs["fps_interior"]
    if await Award.exists().where(Award.buyer == buyer.id):
        return
    proposal = await _selected_proposal(ctx)
    marc = await load_principal(ctx.users["marc"].id, "session")
    start = (now() + timedelta(days=1)).date()
    milestones = [
        schemas.MilestoneIn(title=title, amount=Money(amount=cents), due_date=start + timedelta(days=days),
                            deliverable=deliverable)
        for title, cents, days, deliverable in (
            ("Kick-off and data access", 400_000, 14, "Test plan agreed with the Leuven call room; replay data available."),
            ("Live transcription running", 1_000_000, 45, "The assistant running beside three operators, with logs."),
            ("Results and recommendation", 600_000, 80, "Final report: measured effect, learnings, scale-up advice."),
        )
    ]
    award = await services.award_proposal(marc, proposal.challenge, schemas.AwardIn(
        proposal_id=str(proposal.id), amount=Money(amount=2_000_000), milestones=milestones, language="en"))
    # The demo shows the pilot awarded 12 days ago and signed today. Where a standstill runs (another company bid
    # at the stage), it ended 2 days ago with no objection, so the contract is issued.
    await Award.update({Award.awarded_at: now() - timedelta(days=12)}).where(Award.id == uuid.UUID(award.id))
    if award.standstill_ends_at is not None:
        await Award.update({Award.standstill_ends_at: now() - timedelta(days=2)}).where(Award.id == uuid.UUID(award.id))
        await contracts.issue_contract(uuid.UUID(award.id))
    contract = await Contract.objects().where((Contract.award == uuid.UUID(award.id)) & (Contract.status == "issued")).first()
    if contract is None:  # pragma: no cover - only if someone objected meanwhile
        log.warning("demo: the 112 contract could not be issued")
        return
    julie = await load_principal(ctx.users["julie"].id, "session")
    for principal, party in ((marc, "buyer"), (julie, "company")):
        await contracts.sign_contract(principal, contract.id, schemas.SignatureIn(
            party=party, document_sha256=contract.document_sha256, confirm=True), "192.0.2.10")
    contract = await Contract.objects().where(Contract.id == contract.id).first()
    log.info("demo: contract %s for %s is %s", contract.number, TITLE, contract.status)
