"""Payments API (HTTP only): onboarding, Stripe's webhooks, payouts."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_200_OK

from marketplace.core.auth import PUBLIC, SIGNED_IN, allow, current
from marketplace.core.errors import invalid
from marketplace.core.i18n import current_locale
from marketplace.core.paging import page_list
from marketplace.payments import connect, payouts, schemas, statements, webhooks


class PaymentAccountController(Controller):
    path = "/api/v1/organisations"
    tags = ["payments"]

    @post("/{org_id:str}/payment-account", opt=allow("company_member"), status_code=HTTP_200_OK)
    async def start_onboarding(self, request: Request[Any, Any, Any], org_id: str) -> schemas.PaymentAccountOut:
        """Create the company's Stripe connected account (once) and a fresh single-use onboarding link."""
        return await connect.start_onboarding(current(request), org_id)

    @get("/{org_id:str}/payment-account", opt=allow("company_member"))
    async def payment_account(self, request: Request[Any, Any, Any], org_id: str) -> schemas.PaymentAccountOut:
        """Whether the company's connected account can receive payouts."""
        return await connect.payment_account_status(current(request), org_id)


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["payments"]

    @post("/stripe", opt=allow(PUBLIC), status_code=HTTP_200_OK)
    async def stripe_webhook(self, request: Request[Any, Any, Any]) -> schemas.WebhookAck:
        """Stripe's events, verified with STRIPE_WEBHOOK_SECRET (400 on a bad or old signature); replays are harmless."""
        return await webhooks.receive_event(await request.body(), request.headers.get("stripe-signature"))


class PayoutController(Controller):
    path = "/api/v1/payouts"
    tags = ["payments"]

    @get("", opt=allow(SIGNED_IN))
    async def list_payouts(self, request: Request[Any, Any, Any], contract_id: str | None = None,
                           experiment_id: str | None = None, limit: int = 20, cursor: str | None = None) -> schemas.PayoutList:
        """Payouts the caller's organisations pay or receive (`?contract_id=`, `?experiment_id=`), with the payment clock."""
        for name, value in (("contract_id", contract_id), ("experiment_id", experiment_id)):
            if value is not None:
                try:
                    uuid.UUID(value)
                except ValueError:
                    raise invalid(name, "is not a valid id") from None
        principal = current(request)
        found = await payouts.payouts_visible_to(principal.organisations(), contract_id, experiment_id)
        items, next_cursor = page_list(found, limit, cursor)
        return schemas.PayoutList(items=items, next_cursor=next_cursor)

    @get("/{payout_id:str}/statement", opt=allow(SIGNED_IN), media_type="application/pdf")
    async def statement(self, request: Request[Any, Any, Any], payout_id: str, lang: str | None = None) -> Response[bytes]:
        """The payout's payment statement (PDF; both parties; `?lang=en|fr|nl`)."""
        from marketplace.documents.controllers import pdf_response

        language = lang if lang in ("en", "fr", "nl") else current_locale.get()
        document = await statements.payment_statement(current(request), payout_id, language)
        return await pdf_response(document, "payment-statement")
