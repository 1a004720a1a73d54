"""Stripe Connect onboarding: one connected account per company, and a fresh single-use Account Link
each time the company (re)starts onboarding. `payouts_enabled` comes only from the `account.updated`
webhook, Stripe's source of truth."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import stripe

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import Principal
from marketplace.core.clock import now
from marketplace.core.db import is_integrity_error
from marketplace.core.errors import DomainError, Forbidden, NotFound
from marketplace.payments import gateway
from marketplace.payments.schemas import PaymentAccountOut
from marketplace.payments.tables import PaymentAccount
from marketplace.settings import get_settings

if TYPE_CHECKING:
    from marketplace.payments.webhooks import Apply

log = logging.getLogger("marketplace.payments")
ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,60}")


class StripeUnavailable(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=f"The payment provider did not answer as expected: {detail} Please try again shortly.",
                         status=503, headers={"Retry-After": "30"})


async def from_stripe(request: Awaitable[stripe.StripeObject]) -> dict[str, Any] | None:
    """The object as Stripe returns it; None when Stripe has no such object; a 503 when Stripe cannot
    answer (a webhook answered 503 is retried by Stripe)."""
    try:
        return (await request).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise StripeUnavailable(exc.user_message or str(exc)) from exc
    except stripe.StripeError as exc:
        raise StripeUnavailable(exc.user_message or str(exc)) from exc


async def _company_for(principal: Principal, org_id: str) -> dict:
    try:
        org_uuid = uuid.UUID(org_id)
    except ValueError:  # not an id: nothing to find (a database error is not a 404)
        raise NotFound("organisation") from None
    org = await Organisation.select().where(Organisation.id == org_uuid).first()
    if org is None or org["kind"] != "company":
        raise NotFound("company")
    if not principal.has_role("company_member", organisation_id=org_id):
        raise Forbidden("Only the company's members can set up its payouts.")
    return org


async def account_for(org_id: object) -> dict | None:
    return await PaymentAccount.select().where(PaymentAccount.organisation == org_id).first()


async def _ensure_account(org: dict) -> dict:
    existing = await account_for(org["id"])
    if existing:
        return existing
    # The same key and body replay the same Stripe account, so a double click makes one account.
    account = await gateway.client().v1.accounts.create_async(
        {"type": "express", "country": org["country"] or "BE", "business_type": "company",
         "capabilities": {"transfers": {"requested": True}},
         "business_profile": {"name": org["name"]}, "metadata": {"organisation_id": str(org["id"])}},
        {"idempotency_key": f"connect-account:{org['id']}"},
    )
    try:
        await PaymentAccount.insert(PaymentAccount(organisation=org["id"], stripe_account_id=account.id,
                                                   payouts_enabled=bool(account.payouts_enabled)))
    except Exception as exc:
        if not is_integrity_error(exc):
            raise
    found = await account_for(org["id"])
    assert found is not None
    return found


async def start_onboarding(principal: Principal, org_id: str, return_path: str | None = None) -> PaymentAccountOut:
    """Create (once) the company's connected account and a fresh onboarding link. No database
    transaction is held while Stripe is called."""
    org = await _company_for(principal, org_id)
    base = get_settings().base_url
    try:
        account = await _ensure_account(org)
        if account["payouts_enabled"]:
            return PaymentAccountOut(account_id=account["stripe_account_id"], onboarding_url=None, payouts_enabled=True)
        link = await gateway.client().v1.account_links.create_async({
            "account": account["stripe_account_id"], "type": "account_onboarding",
            "refresh_url": f"{base}/payouts/setup/{org_id}",
            "return_url": f"{base}{return_path or f'/payouts/setup/{org_id}/done'}",
        })
    except stripe.StripeError as exc:
        log.warning("Stripe onboarding for %s failed: %s", org_id, exc)
        raise StripeUnavailable(exc.user_message or str(exc)) from exc
    return PaymentAccountOut(account_id=account["stripe_account_id"], onboarding_url=link.url, payouts_enabled=False)


async def payment_account_status(principal: Principal, org_id: str) -> PaymentAccountOut:
    await _company_for(principal, org_id)
    account = await account_for(org_id)
    if account is None:
        raise NotFound("payment account")
    return PaymentAccountOut(account_id=account["stripe_account_id"], onboarding_url=None,
                             payouts_enabled=account["payouts_enabled"])


async def check_account_updated(account: dict[str, Any]) -> Apply:
    """`account.updated` is a hint too: what is recorded is the account as Stripe returns it."""
    from marketplace.payments.webhooks import ignored

    account_id = account.get("id")
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        return ignored("the account id is not a Stripe account id")
    if not await PaymentAccount.exists().where(PaymentAccount.stripe_account_id == account_id):
        return ignored("no connected account of the marketplace")
    truth = await from_stripe(gateway.client().v1.accounts.retrieve_async(account_id))
    if truth is None:
        return ignored(f"Stripe has no account {account_id}")

    async def apply() -> str:
        return await apply_account_updated(truth)

    return apply


async def apply_account_updated(account: dict) -> str:
    """`account.updated`: record whether the company can now be paid."""
    updated = await PaymentAccount.update({
        PaymentAccount.payouts_enabled: bool(account.get("payouts_enabled")),
        PaymentAccount.details_submitted: bool(account.get("details_submitted")),
        PaymentAccount.updated_at: now(),
    }).where(PaymentAccount.stripe_account_id == account["id"]).returning(PaymentAccount.organisation)
    if not updated:
        return "unknown account"
    from marketplace.transparency import audit

    await audit.record(None, "payment_account.updated", "organisation", updated[0]["organisation"], {
        "account": account["id"], "payouts_enabled": bool(account.get("payouts_enabled")),
        "details_submitted": bool(account.get("details_submitted"))})
    if account.get("payouts_enabled"):
        from marketplace.payments.payouts import wake_waiting_payouts

        await wake_waiting_payouts(updated[0]["organisation"])
    return f"payouts_enabled={bool(account.get('payouts_enabled'))}"
