"""The payments sandbox, driven through the real `stripe` SDK: Stripe's shapes, errors, idempotency
replay, a balance that transfers draw down and top-ups refill, and signed webhook events."""

import asyncio
import json

import httpx
import pytest
import stripe as stripe_sdk

from marketplace.payments import gateway
from marketplace.payments.sandbox.delivery import signature_header
from marketplace.payments.sandbox.encoding import decode_form
from tests.factories_payments import onboarded_account, route_payments_to, stripe, top_up


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


def test_stripe_form_encoding_decodes_nested_dicts_and_lists():
    body = "amount=500&metadata[milestone]=m1&capabilities[transfers][requested]=true&expand[0]=a&expand[1]=b"
    assert decode_form(body) == {"amount": "500", "metadata": {"milestone": "m1"},
                                 "capabilities": {"transfers": {"requested": "true"}}, "expand": ["a", "b"]}


async def test_account_onboarding_link_is_a_page_that_completes_onboarding(client, settings):
    account = await stripe().v1.accounts.create_async({"type": "express", "country": "BE", "email": "a@b.be",
                                                        "capabilities": {"transfers": {"requested": True}}})
    assert account.id.startswith("acct_") and account.object == "account"
    assert account.payouts_enabled is False
    link = await stripe().v1.account_links.create_async(
        {"account": account.id, "type": "account_onboarding", "refresh_url": f"{settings.base_url}/r", "return_url": f"{settings.base_url}/back"})
    assert link.object == "account_link" and link.expires_at > link.created
    path = httpx.URL(link.url).path
    page = await client.get(path)
    assert page.status_code == 200 and "Complete onboarding" in page.text
    done = await client.post(path)
    assert done.status_code == 303 and done.headers["location"] == f"{settings.base_url}/back"
    again = await client.get(path)
    assert again.status_code == 410  # single use
    fresh = await stripe().v1.accounts.retrieve_async(account.id)
    assert fresh.payouts_enabled is True and fresh.capabilities["transfers"] == "active"
    events = await stripe().v1.events.list_async({"type": "account.updated"})
    assert [e.data.object.id for e in events.data] == [account.id]
    assert events.data[0].data.previous_attributes["payouts_enabled"] is False


async def test_transfers_draw_the_balance_down_and_top_ups_refill_it(client):
    destination = await onboarded_account(client)
    with pytest.raises(stripe_sdk.InvalidRequestError) as short:
        await stripe().v1.transfers.create_async({"amount": 1000, "currency": "eur", "destination": destination})
    assert short.value.code == "balance_insufficient" and short.value.http_status == 400
    await top_up(2500)
    transfer = await stripe().v1.transfers.create_async(
        {"amount": 1000, "currency": "eur", "destination": destination, "transfer_group": "contract-1",
         "metadata": {"milestone_id": "m1"}})
    assert transfer.id.startswith("tr_") and transfer.amount == 1000 and transfer.transfer_group == "contract-1"
    assert transfer.metadata["milestone_id"] == "m1"
    balance = await stripe().v1.balance.retrieve_async()
    assert balance.available[0].amount == 1500 and balance.available[0].currency == "eur"
    listed = await stripe().v1.transfers.list_async({"transfer_group": "contract-1"})
    assert [t.id for t in listed.data] == [transfer.id]


async def test_a_transfer_to_an_account_without_onboarding_is_refused():
    account = await stripe().v1.accounts.create_async({"type": "express", "capabilities": {"transfers": {"requested": True}}})
    await top_up(1000)
    with pytest.raises(stripe_sdk.InvalidRequestError) as refused:
        await stripe().v1.transfers.create_async({"amount": 100, "currency": "eur", "destination": account.id})
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    assert (await stripe().v1.balance.retrieve_async()).available[0].amount == 1000


async def test_errors_have_stripes_shape():
    with pytest.raises(stripe_sdk.InvalidRequestError) as missing:
        await stripe().v1.transfers.create_async({"amount": 100, "currency": "eur"})
    assert missing.value.param == "destination" and missing.value.code == "parameter_missing"
    with pytest.raises(stripe_sdk.InvalidRequestError) as unknown:
        await stripe().v1.accounts.retrieve_async("acct_doesnotexist")
    assert unknown.value.http_status == 404 and unknown.value.code == "resource_missing"
    with pytest.raises(stripe_sdk.InvalidRequestError) as bad:
        await stripe().v1.topups.create_async({"amount": "ten", "currency": "eur"})
    assert bad.value.param == "amount"


async def test_a_wrong_api_key_is_refused(client):
    response = await client.get("/sandbox/stripe/v1/balance", headers={"Authorization": "Bearer sk_test_someone_elses_key"})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_same_idempotency_key_and_body_replays_the_first_answer(client):
    destination = await onboarded_account(client)
    await top_up(5000)
    params = {"amount": 700, "currency": "eur", "destination": destination}
    first = await stripe().v1.transfers.create_async(params, {"idempotency_key": "payout-m1-0"})
    second = await stripe().v1.transfers.create_async(params, {"idempotency_key": "payout-m1-0"})
    assert first.id == second.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert (await stripe().v1.balance.retrieve_async()).available[0].amount == 4300
    with pytest.raises(stripe_sdk.IdempotencyError) as other:
        await stripe().v1.transfers.create_async({**params, "amount": 800}, {"idempotency_key": "payout-m1-0"})
    assert "same parameters" in str(other.value)
    assert len((await stripe().v1.transfers.list_async()).data) == 1


async def test_an_error_answer_is_replayed_too(client):
    destination = await onboarded_account(client)
    params = {"amount": 700, "currency": "eur", "destination": destination}
    with pytest.raises(stripe_sdk.InvalidRequestError):
        await stripe().v1.transfers.create_async(params, {"idempotency_key": "k-short"})
    await top_up(5000)
    with pytest.raises(stripe_sdk.InvalidRequestError) as replay:
        await stripe().v1.transfers.create_async(params, {"idempotency_key": "k-short"})
    assert replay.value.code == "balance_insufficient"  # Stripe keeps the first answer for the key
    assert (await stripe().v1.transfers.create_async(params, {"idempotency_key": "k-short-2"})).amount == 700


async def test_concurrent_requests_with_one_key_make_one_transfer(client):
    destination = await onboarded_account(client)
    await top_up(100_000)
    params = {"amount": 100, "currency": "eur", "destination": destination}
    results = await asyncio.gather(*[
        stripe().v1.transfers.create_async(params, {"idempotency_key": "same"}) for _ in range(10)
    ], return_exceptions=True)
    ids = {r.id for r in results if not isinstance(r, Exception)}
    assert len(ids) == 1
    assert (await stripe().v1.balance.retrieve_async()).available[0].amount == 100_000 - 100


async def test_payouts_and_events_can_be_read_back():
    await top_up(1000)
    payout = await stripe().v1.payouts.create_async({"amount": 400, "currency": "eur"})
    assert payout.status == "paid"
    assert (await stripe().v1.payouts.retrieve_async(payout.id)).amount == 400
    events = await stripe().v1.events.list_async({"limit": 100})
    types = {e.type for e in events.data}
    assert {"topup.succeeded", "payout.paid", "balance.available"} <= types
    one = await stripe().v1.events.retrieve_async(events.data[0].id)
    assert one.id == events.data[0].id


async def test_webhook_signature_is_stripes(settings):
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}})
    header = signature_header(payload, gateway.webhook_secret(), int(__import__("time").time()))
    event = stripe_sdk.Webhook.construct_event(payload, header, gateway.webhook_secret())
    assert event.id == "evt_1"


async def test_the_sandbox_is_not_served_when_a_real_stripe_key_is_set(client, override_settings):
    override_settings(stripe_api_key="sk_test_real_account_key")
    response = await client.get("/sandbox/stripe/v1/balance", headers={"Authorization": "Bearer sk_test_marketplace_sandbox"})
    assert response.status_code == 404
    assert (await client.get("/sandbox/stripe/connect/onboarding/anything")).status_code == 404
