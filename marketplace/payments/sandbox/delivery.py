"""Delivering the sandbox's events to the marketplace's webhook endpoint, signed like Stripe's
(`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">`), with retries and backoff."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

import httpx

from marketplace.core.clock import now
from marketplace.core.retries import AttemptFailed, Backoff, RetryQueue
from marketplace.payments import gateway, http
from marketplace.payments.sandbox.tables import SandboxEvent
from marketplace.settings import get_settings

log = logging.getLogger("marketplace.payments.sandbox")
MAX_ATTEMPTS = 10
CLAIM_SECONDS = 120


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


DELIVERIES = RetryQueue(
    table=SandboxEvent, status=SandboxEvent.delivery, ready=(SandboxEvent.Delivery.pending,),
    working=SandboxEvent.Delivery.delivering, failed=SandboxEvent.Delivery.failed,
    # 10 s, 20 s, 40 s, ... capped at one hour (Stripe retries for days; the sandbox is quicker)
    backoff=Backoff(first=timedelta(seconds=10), cap=timedelta(hours=1)),
    claim_for=timedelta(seconds=CLAIM_SECONDS), max_attempts=MAX_ATTEMPTS, order_by=SandboxEvent.created_at,
)


def retry_delay(attempts: int) -> timedelta:
    return DELIVERIES.backoff.after(attempts)


async def deliver_sandbox_events(limit: int = 50) -> int:
    """Send due events, oldest first; returns how many the endpoint acknowledged."""
    settings = get_settings()
    if settings.stripe_api_key:
        return 0  # real Stripe sends its own events
    url = f"{settings.base_url}/api/v1/webhooks/stripe"
    secret = gateway.webhook_secret() or ""
    async with http.async_client() as client:
        async def attempt(event: dict) -> bool:
            payload = event["data"]
            headers = {"Content-Type": "application/json",
                       "Stripe-Signature": signature_header(payload, secret, int(now().timestamp()))}
            try:
                response = await client.post(url, content=payload.encode(), headers=headers)
            except httpx.HTTPError as exc:
                raise AttemptFailed(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code >= 300:
                raise AttemptFailed(f"HTTP {response.status_code}: {response.text[:500]}")
            await SandboxEvent.update({
                SandboxEvent.delivery: SandboxEvent.Delivery.delivered, SandboxEvent.last_error: "",
                SandboxEvent.claimed_until: None,
            }).where(SandboxEvent.id == event["id"])
            return True

        return await DELIVERIES.run(attempt, limit)
