"""Incoming Stripe webhooks: verified with STRIPE_WEBHOOK_SECRET, stored once by event id, processed
in the same transaction. A replayed event finds its row and changes nothing; unknown types are
acknowledged and ignored."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import stripe

from marketplace.core.clock import now
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import DomainError, FieldError
from marketplace.payments.schemas import WebhookAck
from marketplace.payments.tables import StripeWebhookEvent
from marketplace.settings import get_settings

TOLERANCE_SECONDS = 300  # Stripe's default: an older signature is a replay attack


def _handlers() -> dict[str, Callable[[dict[str, Any]], Awaitable[str]]]:
    from marketplace.payments import connect, payouts

    return {
        "account.updated": connect.apply_account_updated,
        "transfer.created": payouts.apply_transfer_event,
        "transfer.updated": payouts.apply_transfer_event,
        "transfer.reversed": payouts.apply_transfer_event,
    }


def verify(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if Stripe (or the sandbox) signed it recently with our secret; else a 400."""
    if not signature:
        raise DomainError("The Stripe-Signature header is missing.", [FieldError("Stripe-Signature", "is required")])
    try:
        stripe.Webhook.construct_event(payload.decode("utf-8"), signature, get_settings().stripe_webhook_secret,
                                       tolerance=TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise DomainError("The webhook signature is invalid or too old.",
                          [FieldError("Stripe-Signature", "does not match the payload, or is too old")]) from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise DomainError("The event has no id or type.", [FieldError("body", "is not a Stripe event")])
    return event


async def receive_event(payload: bytes, signature: str | None) -> WebhookAck:
    event = verify(payload, signature)
    try:
        async with transaction():
            await StripeWebhookEvent.insert(StripeWebhookEvent(
                stripe_event_id=event["id"], type=event["type"], payload=payload.decode("utf-8")))
            handler = _handlers().get(event["type"])
            obj = (event.get("data") or {}).get("object") or {}
            outcome = await handler(obj) if handler else "ignored"
            await StripeWebhookEvent.update({StripeWebhookEvent.processed_at: now(), StripeWebhookEvent.outcome: outcome[:200]}).where(
                StripeWebhookEvent.stripe_event_id == event["id"])
    except Exception as exc:
        if is_integrity_error(exc):
            return WebhookAck(received=True, duplicate=True)
        raise
    return WebhookAck(received=True)
