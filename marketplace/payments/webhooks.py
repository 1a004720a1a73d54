"""Incoming Stripe webhooks: verified with the webhook secret, stored once by event id, processed in
the same transaction. A replayed event finds its row and changes nothing; unknown types are
acknowledged and ignored.

A signed event is still only a hint: each handler checks it first (outside any transaction, since
it may ask Stripe for the object itself), then applies what it found inside the event's transaction.
A signed event that is malformed (an id or type that is not Stripe's, `data.object` not an object,
a field of the wrong shape) is acknowledged and stored as ignored: Stripe would retry a 500 forever.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import stripe

from marketplace.core.clock import now
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import DomainError, FieldError
from marketplace.payments import gateway
from marketplace.payments.schemas import WebhookAck
from marketplace.payments.tables import StripeWebhookEvent
from marketplace.transparency.audit import record

TOLERANCE_SECONDS = 300  # Stripe's default: an older signature is a replay attack; a newer one is forged
EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,60}")
EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+){1,4}")

Apply = Callable[[], Awaitable[str]]
Check = Callable[[dict[str, Any]], Awaitable[Apply]]


def ignored(reason: str) -> Apply:
    """What a handler returns for an event it will not act on."""

    async def apply() -> str:
        return f"ignored: {reason}" if reason else "ignored"

    return apply


def _handlers() -> dict[str, Check]:
    from marketplace.payments import connect, payouts

    return {
        "account.updated": connect.check_account_updated,
        "transfer.created": payouts.check_transfer_event,
        "transfer.updated": payouts.check_transfer_event,
        "transfer.reversed": payouts.check_transfer_event,
    }


def _refuse(detail: str, message: str) -> DomainError:
    return DomainError(detail, [FieldError("Stripe-Signature", message)])


def _timestamp(signature: str) -> int | None:
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            return int(value) if value.isdigit() and len(value) < 15 else None
    return None


def verify(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if Stripe (or the sandbox) signed it within the tolerance with our secret; else a 400."""
    if not signature:
        raise DomainError("The Stripe-Signature header is missing.", [FieldError("Stripe-Signature", "is required")])
    secret = gateway.webhook_secret()
    if secret is None:  # a real Stripe key without a webhook secret: settings refuse to start; never guess one
        raise DomainError("Webhooks cannot be verified: STRIPE_WEBHOOK_SECRET is not set.", status=503)
    stamped = _timestamp(signature)
    if stamped is not None and stamped > now().timestamp() + TOLERANCE_SECONDS:
        raise _refuse("The webhook signature is timestamped in the future.", "is timestamped in the future")
    try:
        stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret, tolerance=TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise _refuse("The webhook signature is invalid or too old.", "does not match the payload, or is too old") from exc
    if not isinstance(event, dict):
        raise DomainError("The event is not a JSON object.", [FieldError("body", "is not a Stripe event")])
    return event


def _identity(event: dict[str, Any], payload: bytes) -> tuple[str, str, str | None]:
    """(stored id, stored type, why it is malformed or None). A malformed id is stored under a hash of the payload."""
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        return f"malformed_{hashlib.sha256(payload).hexdigest()[:48]}", "malformed", "the event id is not a Stripe event id"
    if not isinstance(event_type, str) or not EVENT_TYPE.fullmatch(event_type) or len(event_type) > 80:
        return event_id, "malformed", "the event type is not a Stripe event type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return event_id, event_type, "data.object is not an object"
    return event_id, event_type, None


async def receive_event(payload: bytes, signature: str | None) -> WebhookAck:
    event = verify(payload, signature)
    event_id, event_type, malformed = _identity(event, payload)
    if await StripeWebhookEvent.exists().where(StripeWebhookEvent.stripe_event_id == event_id):
        return WebhookAck(received=True, duplicate=True)
    handler = _handlers().get(event_type)
    if malformed:
        apply = ignored(malformed)
    elif handler is None:
        apply = ignored("")  # a type the marketplace does not act on
    else:
        apply = await handler(event["data"]["object"])  # may ask Stripe: no transaction is held meanwhile
    try:
        async with transaction():
            await StripeWebhookEvent.insert(StripeWebhookEvent(
                stripe_event_id=event_id, type=event_type, payload=payload.decode("utf-8")))
            outcome = await apply()
            await StripeWebhookEvent.update({StripeWebhookEvent.processed_at: now(), StripeWebhookEvent.outcome: outcome[:200]}).where(
                StripeWebhookEvent.stripe_event_id == event_id)
            await record(None, "webhook.received", "stripe_event", event_id, {"type": event_type, "outcome": outcome[:200]})
    except Exception as exc:
        if is_integrity_error(exc):
            return WebhookAck(received=True, duplicate=True)
        raise
    return WebhookAck(received=True)
