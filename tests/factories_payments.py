"""Payments test helpers: the Stripe SDK pointed at the app's own sandbox (real HTTP requests through
httpx's ASGI transport), and rows for connected accounts."""

from __future__ import annotations

import httpx

from marketplace.payments import gateway, http
from marketplace.payments.sandbox.delivery import deliver_sandbox_events
from marketplace.settings import get_settings


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
    base = get_settings().base_url
    link = await gateway.client().v1.account_links.create_async(
        {"account": account.id, "type": "account_onboarding", "refresh_url": f"{base}/r", "return_url": f"{base}/done"})
    response = await client.post(httpx.URL(link.url).path)
    assert response.status_code == 303, response.text
    return account.id


async def deliver_webhooks() -> int:
    return await deliver_sandbox_events()


async def make_experiment(buyer_org=None, company_org=None, milestones: int = 2, amount_cents: int = 500_000,
                          due_in_days: int = 30):
    """A running experiment between a public body and a company, with `milestones` pending milestones.
    Returns (experiment_id, civil servant, procurement officer, company member)."""
    from datetime import timedelta

    from marketplace.core.clock import now
    from marketplace.experiments.services import create_experiment
    from tests.factories import make_user

    servant = await make_user("civil_servant", org=buyer_org)
    officer = await make_user("procurement_officer", org=servant.org)
    founder = await make_user("company_member", org=company_org)
    experiment_id = await create_experiment(
        buyer_id=servant.org.id, company_id=founder.org.id, title="Triage of 112 calls by voice",
        hypothesis="Voice triage halves the time to dispatch", success_measures="median time to dispatch",
        milestones=[{"title": f"Milestone {i}", "amount_cents": amount_cents, "currency": "EUR",
                     "due_date": (now() + timedelta(days=due_in_days * i)).date(), "expected_deliverable": "A report"}
                    for i in range(1, milestones + 1)],
    )
    return experiment_id, servant, officer, founder


PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def deliver(client: httpx.AsyncClient, milestone_id: str, headers: dict, report: str = "We did the work.",
                  files: list | None = None) -> httpx.Response:
    return await client.post(f"/api/v1/milestones/{milestone_id}/deliverables", headers=headers,
                             data={"report": report}, files=files if files is not None else [("files", ("report.pdf", PDF, "application/pdf"))])


async def onboard_company(client: httpx.AsyncClient, founder, headers: dict) -> str:
    """The company sets up payouts through the API and the sandbox's page; the webhook enables them."""
    started = (await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)).json()
    await client.post(httpx.URL(started["onboarding_url"]).path)
    await deliver_webhooks()
    return started["account_id"]
