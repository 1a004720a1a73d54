"""Payouts: one per accepted milestone, executed exactly once by the worker (filled in with experiments)."""

from __future__ import annotations

from typing import Any


async def wake_waiting_payouts(organisation_id: object) -> int:
    """Retry at once the company's payouts that waited for its onboarding."""
    return 0


async def apply_transfer_event(transfer: dict[str, Any]) -> str:
    return "ignored"
