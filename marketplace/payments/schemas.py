"""Wire types of the payments API."""

from __future__ import annotations

import msgspec

from marketplace.core.money import Money


class PaymentAccountOut(msgspec.Struct):
    account_id: str
    onboarding_url: str | None
    payouts_enabled: bool


class WebhookAck(msgspec.Struct):
    received: bool
    duplicate: bool = False


class PayoutOut(msgspec.Struct):
    id: str
    milestone_id: str
    contract_id: str | None
    amount: Money
    status: str
    status_reason: str
    stripe_transfer_id: str | None
    transfer_group: str
    accepted_at: str
    due_by: str
    paid_at: str | None
    days_left: int
    late_interest: Money
    compensation: Money


class PayoutList(msgspec.Struct):
    items: list[PayoutOut]
    next_cursor: str | None = None
