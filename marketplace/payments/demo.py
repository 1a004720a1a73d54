"""Payments demo data: the sandbox's platform balance is topped up, and two companies have finished
Stripe onboarding (TriageVoice and GeoFlow); Civic Data Works has not, so its payouts wait."""

from __future__ import annotations

from typing import Any

from marketplace.payments.sandbox import objects
from marketplace.payments.tables import PaymentAccount

DEMO_REQUEST = {"id": None, "idempotency_key": None}
ONBOARDED = ("triage_ai", "geo_mobility")
TOP_UP_CENTS = 10_000_000  # EUR 100,000 on the platform balance


async def onboard_in_sandbox(org: Any) -> str:
    """A connected account that finished onboarding, made in the sandbox's own tables (the server is not running yet)."""
    existing = await PaymentAccount.select().where(PaymentAccount.organisation == org.id).first()
    if existing:
        return existing["stripe_account_id"]
    account = await objects.create_account({"type": "express", "country": "BE", "business_type": "company",
                                            "capabilities": {"transfers": {"requested": "true"}},
                                            "metadata": {"organisation_id": str(org.id)}}, DEMO_REQUEST)
    await objects.complete_onboarding(account["id"])
    await PaymentAccount.insert(PaymentAccount(organisation=org.id, stripe_account_id=account["id"],
                                               payouts_enabled=True, details_submitted=True))
    return account["id"]


async def load(ctx: Any) -> None:
    from marketplace.payments.sandbox.tables import SandboxObject

    if not await SandboxObject.exists().where(SandboxObject.kind == "topup"):
        await objects.create_topup({"amount": str(TOP_UP_CENTS), "currency": "eur", "description": "Demo platform funds"}, DEMO_REQUEST)
    for key in ONBOARDED:
        await onboard_in_sandbox(ctx.orgs[key])
