"""Payments test helpers: the Stripe SDK pointed at the app's own sandbox (real HTTP requests through
httpx's ASGI transport), and rows for connected accounts."""

from __future__ import annotations

import httpx

from marketplace.payments import gateway, http
from marketplace.payments.sandbox.delivery import deliver_sandbox_events


def route_payments_to(app) -> None:
    """Send the SDK's requests and the sandbox's webhooks to `app` (call from an autouse fixture)."""
    http.use_transport(httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)))


def stripe():
    """The marketplace's Stripe client (the real SDK)."""
    return gateway.client()


async def top_up(amount_cents: int, currency: str = "eur"):
    return await gateway.client().v1.topups.create_async({"amount": amount_cents, "currency": currency, "description": "test"})


async def onboarded_account(client: httpx.AsyncClient, email: str = "founder@example.be") -> str:
    """A connected account that finished onboarding through the sandbox's page; returns its id."""
    account = await gateway.client().v1.accounts.create_async(
        {"type": "express", "country": "BE", "email": email, "capabilities": {"transfers": {"requested": True}}})
    link = await gateway.client().v1.account_links.create_async(
        {"account": account.id, "type": "account_onboarding", "refresh_url": "http://testserver/r", "return_url": "http://testserver/done"})
    response = await client.post(httpx.URL(link.url).path)
    assert response.status_code == 303, response.text
    return account.id


async def deliver_webhooks() -> int:
    return await deliver_sandbox_events()
