"""A company onboards with Stripe Connect; Stripe's webhooks are verified, stored and processed once."""

import json
import time

import httpx
import pytest
import time_machine

from marketplace.payments import gateway
from marketplace.payments.sandbox.delivery import signature_header
from marketplace.payments.tables import PaymentAccount, StripeWebhookEvent
from tests.factories import make_user, token_for
from tests.factories_payments import deliver_webhooks, route_payments_to


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


def signed(payload: dict, secret: str, at: int | None = None) -> tuple[bytes, dict]:
    body = json.dumps(payload)
    return body.encode(), {"Content-Type": "application/json",
                           "Stripe-Signature": signature_header(body, secret, at or int(time.time()))}


async def test_company_onboards_and_the_webhook_enables_payouts(client):
    founder = await make_user("company_member")
    headers = await token_for(founder)
    started = await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["account_id"].startswith("acct_") and body["payouts_enabled"] is False
    again = await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)
    assert again.json()["account_id"] == body["account_id"]  # one account per company
    assert await PaymentAccount.count() == 1
    assert again.json()["onboarding_url"] != body["onboarding_url"]  # a fresh single-use link

    done = await client.post(httpx.URL(body["onboarding_url"]).path)
    assert done.status_code == 303
    status = await client.get(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)
    assert status.json()["payouts_enabled"] is False  # only the webhook says so
    assert await deliver_webhooks() >= 1
    status = await client.get(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)
    assert status.json()["payouts_enabled"] is True
    finished = await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)
    assert finished.json() == {"account_id": body["account_id"], "onboarding_url": None, "payouts_enabled": True}


async def test_only_the_companys_members_may_set_up_its_payouts(client):
    founder = await make_user("company_member")
    other = await make_user("company_member")
    officer = await make_user("procurement_officer")
    url = f"/api/v1/organisations/{founder.org.id}/payment-account"
    assert (await client.post(url)).status_code == 401
    assert (await client.post(url, headers=await token_for(other))).status_code == 403
    assert (await client.post(url, headers=await token_for(officer))).status_code == 403
    assert (await client.get(url, headers=await token_for(founder))).status_code == 404  # not set up yet
    assert (await client.post(url, headers=await token_for(founder))).status_code == 200
    assert (await client.post("/api/v1/organisations/nope/payment-account", headers=await token_for(founder))).status_code == 404


async def test_a_webhook_with_a_bad_or_old_signature_is_refused_and_changes_nothing(client, settings):
    founder = await make_user("company_member")
    await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=await token_for(founder))
    account = await PaymentAccount.select().first()
    event = {"id": "evt_forged", "object": "event", "type": "account.updated",
             "data": {"object": {"id": account["stripe_account_id"], "payouts_enabled": True}}}
    body, headers = signed(event, "whsec_wrong")
    forged = await client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert forged.status_code == 400
    assert forged.json()["errors"][0]["field"] == "Stripe-Signature"
    body, headers = signed(event, gateway.webhook_secret(), at=int(time.time()) - 3600)
    assert (await client.post("/api/v1/webhooks/stripe", content=body, headers=headers)).status_code == 400
    missing = await client.post("/api/v1/webhooks/stripe", content=body, headers={"Content-Type": "application/json"})
    assert missing.status_code == 400
    assert await StripeWebhookEvent.count() == 0
    assert (await PaymentAccount.select().first())["payouts_enabled"] is False


async def test_a_replayed_event_is_processed_once_and_unknown_types_are_ignored(client):
    founder = await make_user("company_member")
    started = await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=await token_for(founder))
    await client.post(httpx.URL(started.json()["onboarding_url"]).path)  # Stripe now says payouts are enabled
    account = await PaymentAccount.select().first()
    event = {"id": "evt_1", "object": "event", "type": "account.updated",
             "data": {"object": {"id": account["stripe_account_id"], "payouts_enabled": True, "details_submitted": True}}}
    for _ in range(3):
        body, headers = signed(event, gateway.webhook_secret())
        response = await client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": True}
    assert await StripeWebhookEvent.count() == 1
    assert (await PaymentAccount.select().first())["payouts_enabled"] is True

    body, headers = signed({"id": "evt_2", "object": "event", "type": "charge.dispute.created", "data": {"object": {}}},
                           gateway.webhook_secret())
    unknown = await client.post("/api/v1/webhooks/stripe", content=body, headers=headers)
    assert unknown.status_code == 200 and unknown.json() == {"received": True, "duplicate": False}
    stored = await StripeWebhookEvent.select().where(StripeWebhookEvent.stripe_event_id == "evt_2").first()
    assert stored["outcome"] == "ignored" and stored["processed_at"] is not None


async def test_a_forged_account_update_cannot_enable_payouts(client):
    """Attack: a signed `account.updated` saying `payouts_enabled: true` for a company that never finished onboarding."""
    founder = await make_user("company_member")
    await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=await token_for(founder))
    account = await PaymentAccount.select().first()
    event = {"id": "evt_enable", "object": "event", "type": "account.updated",
             "data": {"object": {"id": account["stripe_account_id"], "payouts_enabled": True, "details_submitted": True}}}
    body, headers = signed(event, gateway.webhook_secret())
    assert (await client.post("/api/v1/webhooks/stripe", content=body, headers=headers)).status_code == 200
    assert (await PaymentAccount.select().first())["payouts_enabled"] is False  # Stripe's own account says no
    body, headers = signed({**event, "id": "evt_unknown", "data": {"object": {"id": "acct_notours"}}}, gateway.webhook_secret())
    assert (await client.post("/api/v1/webhooks/stripe", content=body, headers=headers)).status_code == 200
    stored = await StripeWebhookEvent.select().where(StripeWebhookEvent.stripe_event_id == "evt_unknown").first()
    assert stored["outcome"] == "ignored: no connected account of the marketplace"


async def test_the_sandbox_retries_a_delivery_the_app_did_not_acknowledge(client, monkeypatch):
    founder = await make_user("company_member")
    link = (await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=await token_for(founder))).json()
    await client.post(httpx.URL(link["onboarding_url"]).path)
    from marketplace.payments import webhooks

    async def down(payload, signature):
        raise RuntimeError("the app is briefly broken")

    receive = webhooks.receive_event
    monkeypatch.setattr(webhooks, "receive_event", down)
    assert await deliver_webhooks() == 0
    assert (await PaymentAccount.select().first())["payouts_enabled"] is False
    monkeypatch.setattr(webhooks, "receive_event", receive)
    assert await deliver_webhooks() == 0  # not due yet: the sandbox backs off
    with time_machine.travel(time.time() + 3600, tick=False):
        assert await deliver_webhooks() >= 1
    assert (await PaymentAccount.select().first())["payouts_enabled"] is True
