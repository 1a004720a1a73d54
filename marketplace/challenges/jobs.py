"""Background work: publish challenges whose date has come; send matchmaking digests."""

from __future__ import annotations

from marketplace.challenges.matchmaking import send_match_digests
from marketplace.challenges.services import go_live
from marketplace.challenges.tables import Challenge
from marketplace.core.clock import now
from marketplace.core.db import transaction


async def publish_due_challenges() -> int:
    """Publish every scheduled challenge whose `publish_at` has passed (each exactly once)."""
    due = await Challenge.select(Challenge.id, Challenge.approved_by).where(
        (Challenge.status == "scheduled") & (Challenge.publish_at <= now())).limit(100)
    published = 0
    for row in due:
        async with transaction():
            published += await go_live(row["id"], row["approved_by"])
    return published


JOBS = [publish_due_challenges, send_match_digests]
