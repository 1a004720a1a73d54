"""Public payment metrics, for the transparency pages and open data: how fast each buyer pays."""

from __future__ import annotations

from statistics import median
from typing import Any

from marketplace.core.clock import as_utc, now
from marketplace.payments.tables import Payout


async def payment_metrics(buyer_id: object | None = None, challenge_experiments: list[Any] | None = None) -> dict[str, Any]:
    """Days from acceptance to payment: median over paid payouts, how many were paid late, and how
    many are overdue now. Filter by buyer organisation and/or a list of experiment ids."""
    query = Payout.select(Payout.status, Payout.accepted_at, Payout.due_by, Payout.paid_at)
    if buyer_id is not None:
        query = query.where(Payout.buyer == buyer_id)
    if challenge_experiments is not None:
        if not challenge_experiments:
            return {"paid": 0, "median_days_to_pay": None, "paid_late": 0, "overdue": 0}
        query = query.where(Payout.experiment.is_in(challenge_experiments))
    rows = await query
    moment = now()
    paid = [r for r in rows if r["paid_at"] is not None]
    days = [(as_utc(r["paid_at"]) - as_utc(r["accepted_at"])).days for r in paid]
    return {
        "paid": len(paid),
        "median_days_to_pay": median(days) if days else None,
        "paid_late": sum(1 for r in paid if as_utc(r["paid_at"]) > as_utc(r["due_by"])),
        "overdue": sum(1 for r in rows if r["paid_at"] is None and as_utc(r["due_by"]) < moment),
    }
