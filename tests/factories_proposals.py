"""Factories for proposals and evaluation: an open challenge with dated stages, proposals, evaluators."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import now
from marketplace.procedures import engine
from marketplace.proposals.tables import Proposal, ProposalStage
from tests.factories import make_org, make_user

DAYS = timedelta(days=1)


async def make_open_challenge(buyer=None, *, template: str = "light", start: datetime | None = None,
                              title: str = "Faster triage of 112 calls", gap_days: int = 7, **fields) -> Challenge:
    """A published challenge whose first stage opened at `start` (default: now) and closes after the
    template's duration; later stages are pending with their planned dates."""
    buyer = buyer or await make_org("public_body")
    tpl = engine.latest(template)
    start = start or now()
    challenge = Challenge(buyer=buyer.id, status=Challenge.Status.published, title=title, procedure_template=tpl.id,
                          procedure_version=tpl.version, current_stage=tpl.stages[0].key, published_at=start, **fields)
    await challenge.save()
    for position, planned in enumerate(engine.schedule(tpl, start, gap_days=gap_days)):
        await ChallengeStage.insert(ChallengeStage(
            challenge=challenge.id, key=planned.key, position=position, opens_at=planned.opens_at, closes_at=planned.closes_at,
            status=ChallengeStage.Status.open if position == 0 else ChallengeStage.Status.pending))
    challenge.buyer_org = buyer  # type: ignore[attr-defined]
    return challenge


async def stage_row(challenge, key: str) -> dict:
    return await ChallengeStage.select().where((ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == key)).first()


async def make_proposal(challenge, company=None, *, status: str = "draft", stage: str | None = None,
                        answers: dict | None = None) -> Proposal:
    """A proposal row built directly (for tests that do not go through the API)."""
    company = company or await make_org("company")
    stage = stage or challenge.current_stage
    proposal = Proposal(challenge=challenge.id, company=company.id, status=status, current_stage=stage)
    await proposal.save()
    await ProposalStage.insert(ProposalStage(
        proposal=proposal.id, stage=stage, answers=json.dumps(answers or {}),
        status="submitted" if status != "draft" else "draft", version=1 if status != "draft" else 0,
        submitted_at=now() if status != "draft" else None))
    proposal.company_org = company  # type: ignore[attr-defined]
    return proposal


async def make_buyer_team(buyer) -> dict:
    """A civil servant, a procurement officer and an evaluator of `buyer`."""
    return {
        "civil_servant": await make_user("civil_servant", org=buyer),
        "procurement_officer": await make_user("procurement_officer", org=buyer),
        "evaluator": await make_user("evaluator", org=buyer),
    }


async def make_evaluator(challenge, buyer, *, declared: bool = True, conflict: bool = False):
    """An evaluator of `buyer`, assigned to `challenge`, with (or without) a declaration."""
    from marketplace.evaluation.tables import Declaration, EvaluatorAssignment

    user = await make_user("evaluator", org=buyer)
    await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=challenge.id, evaluator=user.id))
    if declared:
        await Declaration.insert(Declaration(challenge=challenge.id, evaluator=user.id, has_conflict=conflict,
                                             statement="I know one of the founders." if conflict else ""))
    return user


def valid_answers(spec, budget_cap_cents: int = 3_000_000) -> dict:
    """Answers that satisfy a stage's template fields (short texts within every limit)."""
    out: dict = {}
    for f in spec.fields:
        if f.type in ("text", "textarea", "team"):
            out[f.key] = f"Our {f.label.lower()} in a few words."
        elif f.type == "url":
            out[f.key] = "https://example.be"
        elif f.type == "money":
            out[f.key] = {"amount": budget_cap_cents // 2, "currency": "EUR"}
        elif f.type == "milestones":
            # two quarters of the cap: the milestones add up to the price (half the cap)
            out[f.key] = [{"title": "Pilot with one centre", "amount": {"amount": budget_cap_cents // 4, "currency": "EUR"},
                           "deliverable": "A pilot report"},
                          {"title": "Roll-out plan", "amount": {"amount": budget_cap_cents // 2 - budget_cap_cents // 4,
                                                                "currency": "EUR"}, "deliverable": "A roll-out plan"}]
        elif f.type == "number":
            out[f.key] = 1
        elif f.type == "boolean":
            out[f.key] = True
        elif f.type in ("choice",):
            out[f.key] = f.choices[0]
        elif f.type == "multichoice":
            out[f.key] = [f.choices[0]]
        elif f.type == "date":
            out[f.key] = "2026-06-01"
    return out
