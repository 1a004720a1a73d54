"""Factories for documents, awards and contracts tests: a challenge whose stages ran, with proposals."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdf

from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import now
from tests.factories import make_org


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
    for position, key in enumerate(("expression_of_interest", "proposal", "pitch")):
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
