"""Staged proposals: what other domains may call."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.core.clock import now
from marketplace.core.errors import Conflict, NotFound
from marketplace.proposals.tables import Proposal


def _uuid(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(what) from None


async def companies_with_proposals(challenge_id: Any) -> list[str]:
    """Ids of the organisations that have a proposal (draft or further) on a challenge, withdrawn ones
    excepted: the bidders to tell about an amendment."""
    rows = await Proposal.select(Proposal.company).where(
        (Proposal.challenge == _uuid(challenge_id, "challenge")) & (Proposal.status != Proposal.Status.withdrawn)
    )
    return sorted({str(r["company"]) for r in rows})


async def mark_awarded(proposal_id: Any) -> None:
    """The contracts domain awarded a `selected` proposal. Refused (409) for any other status."""
    pid = _uuid(proposal_id, "proposal")
    done = await Proposal.update({Proposal.status: Proposal.Status.awarded, Proposal.updated_at: now()}).where(
        (Proposal.id == pid) & Proposal.status.is_in([Proposal.Status.selected, Proposal.Status.awarded])
    ).returning(Proposal.id)
    if not done:
        if not await Proposal.exists().where(Proposal.id == pid):
            raise NotFound("proposal")
        raise Conflict("Only a proposal selected at the last stage can be awarded.")
