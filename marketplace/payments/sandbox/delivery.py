"""Delivering the sandbox's events to the marketplace's webhook endpoint, signed like Stripe's
(`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">`), with retries and backoff."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

import httpx

from marketplace.core.clock import now
from marketplace.payments import gateway, http
from marketplace.payments.sandbox.tables import SandboxEvent
from marketplace.settings import get_settings

log = logging.getLogger("marketplace.payments.sandbox")
MAX_ATTEMPTS = 10
CLAIM_SECONDS = 120


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... capped at one hour (Stripe retries for days; the sandbox is quicker)."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


def _due():
    moment = now()
    return (
        ((SandboxEvent.delivery == SandboxEvent.Delivery.pending) & (SandboxEvent.next_attempt_at <= moment))
        | ((SandboxEvent.delivery == SandboxEvent.Delivery.delivering) & (SandboxEvent.claimed_until < moment))
    )


async def deliver_sandbox_events(limit: int = 50) -> int:
    """Send due events, oldest first; returns how many the endpoint acknowledged."""
    settings = get_settings()
    if settings.stripe_api_key:
        return 0  # real Stripe sends its own events
    due = await SandboxEvent.select(SandboxEvent.id).where(_due()).order_by(SandboxEvent.created_at).limit(limit)
    url = f"{settings.base_url}/api/v1/webhooks/stripe"
    secret = gateway.webhook_secret() or ""
    delivered = 0
    async with http.async_client() as client:
        for row in due:
            claimed = await SandboxEvent.update({
                SandboxEvent.delivery: SandboxEvent.Delivery.delivering,
                SandboxEvent.claimed_until: now() + timedelta(seconds=CLAIM_SECONDS),
            }).where((SandboxEvent.id == row["id"]) & _due()).returning(SandboxEvent.data, SandboxEvent.attempts)
            if not claimed:
                continue
            payload, attempts = claimed[0]["data"], claimed[0]["attempts"] + 1
            headers = {"Content-Type": "application/json",
                       "Stripe-Signature": signature_header(payload, secret, int(now().timestamp()))}
            error = ""
            try:
                response = await client.post(url, content=payload.encode(), headers=headers)
                if response.status_code >= 300:
                    error = f"HTTP {response.status_code}: {response.text[:500]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error:
                log.warning("sandbox webhook %s failed (attempt %d): %s", row["id"], attempts, error)
            else:
                delivered += 1
            await SandboxEvent.update({
                SandboxEvent.delivery: (SandboxEvent.Delivery.delivered if not error else
                                        SandboxEvent.Delivery.failed if attempts >= MAX_ATTEMPTS else SandboxEvent.Delivery.pending),
                SandboxEvent.attempts: attempts,
                SandboxEvent.last_error: error,
                SandboxEvent.next_attempt_at: now() + retry_delay(attempts),
                SandboxEvent.claimed_until: None,
            }).where(SandboxEvent.id == row["id"])
    return delivered
