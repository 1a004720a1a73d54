"""The payments contract: the same tests run against the sandbox and, when the run starts with
STRIPE_API_KEY=sk_test_..., against Stripe's test mode (skipped otherwise). They check what the
marketplace relies on: object shapes, error shapes and codes, idempotency replay and its error,
the balance, events, and webhook signatures the SDK verifies."""

import os
import time
import uuid
from pathlib import Path

import pytest
import stripe as stripe_sdk

from marketplace.payments import gateway, http
from marketplace.payments.sandbox.delivery import signature_header
from tests.factories_payments import onboarded_account, route_payments_to, top_up


def _stripe_test_key() -> str | None:
    """conftest drops STRIPE_API_KEY so the rest of the suite uses the sandbox; the contract suite
    reads the key this run was started with."""
    try:
        initial = dict(item.split("=", 1) for item in Path("/proc/self/environ").read_text().split("\0") if "=" in item)
    except OSError:
        initial = {}
    key = initial.get("STRIPE_API_KEY") or os.environ.get("STRIPE_API_KEY")
    return key if key and key.startswith("sk_test_") else None


STRIPE_TEST_KEY = _stripe_test_key()


@pytest.fixture(params=["sandbox", "stripe_test_mode"])
def target(request, app, override_settings):
    if request.param == "sandbox":
        override_settings(stripe_api_key=None, stripe_api_base=None)
        route_payments_to(app)
    else:
        if not STRIPE_TEST_KEY:
            pytest.skip("set STRIPE_API_KEY=sk_test_... to run the contract against Stripe's test mode")
        override_settings(stripe_api_key=STRIPE_TEST_KEY, stripe_api_base=None)
        http.use_transport(None)
    yield request.param
    route_payments_to(app)


def client():
    return gateway.client()


async def new_account(**extra):
    return await client().v1.accounts.create_async({
        "type": "express", "country": "BE", "capabilities": {"transfers": {"requested": True}},
        "metadata": {"contract_test": "1"}, **extra})


async def test_a_connected_account_starts_without_payouts(target):
    account = await new_account(email="contract-test@example.be")
    assert account.object == "account" and account.id.startswith("acct_")
    assert account.payouts_enabled is False and account.details_submitted is False
    assert account.metadata["contract_test"] == "1"
    fetched = await client().v1.accounts.retrieve_async(account.id)
    assert fetched.id == account.id


async def test_an_account_link_is_single_use_and_expires(target, settings):
    account = await new_account()
    link = await client().v1.account_links.create_async({
        "account": account.id, "type": "account_onboarding",
        "refresh_url": f"{settings.base_url}/refresh", "return_url": f"{settings.base_url}/return"})
    assert link.object == "account_link" and link.url.startswith("http")
    assert link.created < link.expires_at <= link.created + 3600


async def test_the_balance_has_stripes_shape(target):
    balance = await client().v1.balance.retrieve_async()
    assert balance.object == "balance"
    assert all(isinstance(b.amount, int) and len(b.currency) == 3 for b in balance.available)


async def test_errors_name_the_parameter_and_code(target):
    with pytest.raises(stripe_sdk.InvalidRequestError) as missing:
        await client().v1.transfers.create_async({"amount": 100, "currency": "eur"})
    assert missing.value.http_status == 400 and missing.value.param == "destination"
    with pytest.raises(stripe_sdk.InvalidRequestError) as unknown:
        await client().v1.transfers.retrieve_async("tr_doesnotexist0000000000")
    assert unknown.value.http_status == 404 and unknown.value.code == "resource_missing"


async def test_a_transfer_to_an_unfinished_account_is_refused(target):
    account = await new_account()
    with pytest.raises(stripe_sdk.InvalidRequestError) as refused:
        await client().v1.transfers.create_async({"amount": 100, "currency": "eur", "destination": account.id})
    assert refused.value.http_status == 400
    assert refused.value.code in ("insufficient_capabilities_for_transfer", "balance_insufficient")


async def test_idempotency_replays_the_same_request_and_refuses_another(target):
    key = f"contract-test-{uuid.uuid4()}"
    params = {"type": "express", "country": "BE", "capabilities": {"transfers": {"requested": True}}}
    first = await client().v1.accounts.create_async(params, {"idempotency_key": key})
    again = await client().v1.accounts.create_async(params, {"idempotency_key": key})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe_sdk.IdempotencyError):
        await client().v1.accounts.create_async({**params, "country": "FR"}, {"idempotency_key": key})


async def test_events_list_newest_first(target):
    await new_account()
    events = await client().v1.events.list_async({"limit": 3})
    assert events.object == "list"
    created = [e.created for e in events.data]
    assert created == sorted(created, reverse=True)


def test_webhook_signatures_verify_with_the_sdk(settings):
    payload = '{"id": "evt_contract", "object": "event", "type": "account.updated", "data": {"object": {}}}'
    header = signature_header(payload, gateway.webhook_secret(), int(time.time()))
    assert stripe_sdk.Webhook.construct_event(payload, header, gateway.webhook_secret()).id == "evt_contract"
    with pytest.raises(stripe_sdk.SignatureVerificationError):
        stripe_sdk.Webhook.construct_event(payload, header, "whsec_other")
    old = signature_header(payload, gateway.webhook_secret(), int(time.time()) - 3600)
    with pytest.raises(stripe_sdk.SignatureVerificationError):
        stripe_sdk.Webhook.construct_event(payload, old, gateway.webhook_secret(), tolerance=300)


async def test_a_transfer_draws_down_the_balance_and_replays_by_key(target, client):
    if target != "sandbox":
        pytest.skip("in test mode, onboarding an Express account and funding the balance need Stripe's dashboard")
    destination = await onboarded_account(client)
    await top_up(10_000)
    key = f"payout-milestone-{uuid.uuid4()}-0"
    params = {"amount": 2_500, "currency": "eur", "destination": destination, "transfer_group": "contract-x"}
    transfer = await gateway.client().v1.transfers.create_async(params, {"idempotency_key": key})
    replay = await gateway.client().v1.transfers.create_async(params, {"idempotency_key": key})
    assert replay.id == transfer.id and transfer.object == "transfer" and transfer.destination == destination
    balance = await gateway.client().v1.balance.retrieve_async()
    assert {b.currency: b.amount for b in balance.available}["eur"] == 7_500
