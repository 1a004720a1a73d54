"""Factories for documents, awards and contracts tests: a challenge whose stages ran, with proposals."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pypdf

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import now
from marketplace.proposals.tables import Decision, Proposal, ProposalStage
from tests.factories import make_org, make_user


async def make_challenge(buyer=None, status: str = "published", title: str = "Faster triage of 112 calls",
                         budget_cap_cents: int = 3_000_000, max_duration_days: int = 90,
                         stage_status: str = "decided", **fields) -> Challenge:
    """A published challenge of the `light` template whose stages have all closed (by default)."""
    buyer = buyer or await make_org("public_body")
    moment = now()
    challenge = Challenge(
        buyer=buyer.id, status=status, title=title, summary="Operators lose minutes on calls that need no ambulance.",
        problem="112 operators triage every call by hand.", budget_cap_cents=budget_cap_cents,
        max_duration_days=max_duration_days, procedure_template="light", published_at=moment - timedelta(days=40),
        topics='["emergency", "ai"]', cpv_codes='["72212000-4"]', **fields,
    )
    await challenge.save()
    for position, key in enumerate(("expression_of_interest", "short_proposal", "pitch")):
        await ChallengeStage.insert(ChallengeStage(
            challenge=challenge.id, key=key, position=position, opens_at=moment - timedelta(days=40 - 10 * position),
            closes_at=moment - timedelta(days=31 - 10 * position), status=stage_status,
            decided_at=moment - timedelta(days=30 - 10 * position) if stage_status == "decided" else None,
        ))
    challenge.buyer_org = buyer  # type: ignore[attr-defined]
    return challenge


def pdf_text(data: bytes) -> tuple[int, str]:
    """(page count, all the text) of a PDF, read back with pypdf."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


async def make_decided_proposal(challenge, status: str, company=None, feedback: str = "Clear plan, strong team.",
                                answers: dict | None = None) -> Proposal:
    """A proposal that went through the stages to the last one (`pitch`), where it was `selected` or
    `rejected` (with feedback)."""
    company = company or await make_org("company")
    proposal = Proposal(challenge=challenge.id, company=company.id, status=status, current_stage="pitch")
    await proposal.save()
    await ProposalStage.insert(ProposalStage(
        proposal=proposal.id, stage="short_proposal", status="submitted", version=1, submitted_at=now(),
        answers=json.dumps(answers or {"approach": "A voice assistant that listens beside the operator.",
                                       "experiment_plan": "Three weeks of shadow triage in the Leuven centre."})))
    await ProposalStage.insert(ProposalStage(  # the pitch, at the last stage: each such proposal is a bidder there
        proposal=proposal.id, stage="pitch", status="submitted", version=1, submitted_at=now(), answers="{}"))
    await Decision.insert(Decision(proposal=proposal.id, stage="short_proposal",
                                   outcome="advance" if status == "selected" else "reject", feedback=feedback))
    proposal.company_org = company  # type: ignore[attr-defined]
    return proposal


@dataclass
class AwardSetting:
    challenge: Challenge
    buyer: Organisation
    officer: User
    civil_servant: User
    winner: Proposal
    winner_member: User
    loser: Proposal
    loser_member: User


async def make_award_setting(**challenge_fields) -> AwardSetting:
    """A decided challenge of the 112 centres with one selected and one rejected proposal."""
    buyer = await make_org("public_body", name="FPS Home Affairs – 112 Emergency Centres", enterprise_number="0308.357.159")
    challenge = await make_challenge(buyer=buyer, **challenge_fields)
    winner_co = await make_org("company", name="TriageVoice BV", enterprise_number="0786.432.119")
    loser_co = await make_org("company", name="GeoFlow Mobility SRL")
    winner = await make_decided_proposal(challenge, "selected", winner_co)
    loser = await make_decided_proposal(challenge, "rejected", loser_co, feedback="The plan lacks a measurable target.")
    return AwardSetting(
        challenge=challenge, buyer=buyer,
        officer=await make_user("procurement_officer", org=buyer, name="Marc Dubois"),
        civil_servant=await make_user("civil_servant", org=buyer, name="Sofie Peeters"),
        winner=winner, winner_member=await make_user("company_member", org=winner_co, name="Lena Claes"),
        loser=loser, loser_member=await make_user("company_member", org=loser_co, name="Thomas Martin", locale="fr"),
    )


def award_body(proposal, amounts=(1_200_000, 800_000), start: date | None = None, **extra) -> dict:
    """An award request: milestones of `amounts` cents, due 25 days apart from `start` (default: in 20 days)."""
    start = start or (now() + timedelta(days=20)).date()
    milestones = [
        {"title": f"Milestone {i + 1}", "amount": {"amount": a, "currency": "EUR"},
         "due_date": (start + timedelta(days=25 * (i + 1))).isoformat(), "deliverable": f"Deliverable {i + 1}: a report."}
        for i, a in enumerate(amounts)
    ]
    return {"proposal_id": str(proposal.id), "amount": {"amount": sum(amounts), "currency": "EUR"},
            "milestones": milestones, **extra}
