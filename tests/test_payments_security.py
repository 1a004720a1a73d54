"""Money that cannot be faked: each test replays an attack on payouts, webhooks or the payments sandbox
and checks that it changes nothing (or is refused), is recorded, and that platform admins are told."""

import json
import time
from datetime import timedelta

import httpx
import pytest
import time_machine

from marketplace.core.clock import now
from marketplace.mail.tables import OutboxMessage
from marketplace.payments import gateway, payouts
from marketplace.payments.sandbox.delivery import signature_header
from marketplace.payments.sandbox.tables import SandboxAccountLink, SandboxEvent
from marketplace.payments.tables import Payout, StripeWebhookEvent
from marketplace.settings import Settings
from marketplace.transparency.audit import chain_pending
from marketplace.transparency.tables import AuditEvent
from tests.factories import make_user, signed_in_client, token_for
from tests.factories_payments import onboard_company, onboarded_account, stripe, top_up
from tests.test_payments_payouts import _sandbox, accepted_milestone  # noqa: F401 - the autouse sandbox fixture


async def post_event(client, event: dict, secret: str | None = None, at: int | None = None) -> httpx.Response:
    body = json.dumps(event)
    header = signature_header(body, secret or gateway.webhook_secret(), at if at is not None else int(time.time()))
    return await client.post("/api/v1/webhooks/stripe", content=body.encode(),
                             headers={"Content-Type": "application/json", "Stripe-Signature": header})


def transfer_event(event_id: str, transfer: dict, kind: str = "transfer.created") -> dict:
    return {"id": event_id, "object": "event", "type": kind, "data": {"object": transfer}}


async def outcome(event_id: str) -> str:
    return (await StripeWebhookEvent.select().where(StripeWebhookEvent.stripe_event_id == event_id).first())["outcome"]


async def onboarded_payout(client):
    """An accepted milestone whose company finished onboarding and whose buyer's balance can pay it."""
    milestone, founder, company, buyer = await accepted_milestone(client)
    await onboard_company(client, founder, company)
    await top_up(1_000_000)
    return await Payout.select().first(), founder


# --- the webhook secret -------------------------------------------------------------------------

def test_a_real_stripe_key_without_a_webhook_secret_refuses_to_start():
    with pytest.raises(SystemExit) as refused:
        Settings.from_env({"STRIPE_API_KEY": "sk_live_realaccount", "SECRET_KEY": "s"})
    message = str(refused.value)
    assert "STRIPE_WEBHOOK_SECRET" in message and "\n" not in message
    configured = Settings.from_env({"STRIPE_API_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_mine", "SECRET_KEY": "s"})
    assert configured.stripe_webhook_secret == "whsec_mine"
    assert Settings.from_env({"SECRET_KEY": "s"}).stripe_webhook_secret is None  # the sandbox derives its own


async def test_no_built_in_webhook_secret_signs_anything(client, override_settings):
    """Attack: sign `transfer.created` with the public default `whsec_sandbox` and have a payout marked paid."""
    payout, _founder = await onboarded_payout(client)
    forged = transfer_event("evt_forged_default", {"id": "tr_forged", "amount": 1, "currency": "eur",
                                                   "destination": "acct_attacker", "metadata": {"payout_id": str(payout["id"])}})
    assert (await post_event(client, forged, secret="whsec_sandbox")).status_code == 400  # the sandbox's secret is its own
    override_settings(stripe_api_key="sk_test_real_account", stripe_webhook_secret=None)
    assert gateway.webhook_secret() is None
    refused = await post_event(client, forged, secret="whsec_sandbox")
    assert refused.status_code == 503  # never verified with a built-in value: Stripe retries once it is configured
    assert await StripeWebhookEvent.count().where(StripeWebhookEvent.stripe_event_id == "evt_forged_default") == 0
    assert (await Payout.select().first())["status"] != "paid"


async def test_the_sandbox_secrets_belong_to_the_installation(override_settings):
    key, secret = gateway.sandbox_api_key(), gateway.webhook_secret()
    assert key != "sk_test_marketplace_sandbox" and secret != "whsec_sandbox"
    override_settings(secret_key="another-installation")
    assert gateway.sandbox_api_key() != key and gateway.webhook_secret() != secret


# --- a webhook is a hint, not the truth ---------------------------------------------------------------

async def test_a_forged_transfer_event_changes_nothing_is_recorded_and_admins_are_told(client):
    """Attack from the issue: a validly signed `transfer.created` naming any payout, 1 cent, to the attacker."""
    payout, founder = await onboarded_payout(client)
    admin = await make_user(admin=True, locale="fr")
    forged = transfer_event("evt_forged", {"id": "tr_forged1", "amount": 1, "currency": "eur",
                                           "destination": "acct_attacker", "metadata": {"payout_id": str(payout["id"])}})
    response = await post_event(client, forged)
    assert response.status_code == 200
    after = await Payout.select().first()
    assert after["status"] != "paid" and after["stripe_transfer_id"] is None
    assert (await outcome("evt_forged")).startswith("mismatch, nothing changed")
    assert "amount is 1, expected 500000" in await outcome("evt_forged")
    assert await OutboxMessage.count().where(OutboxMessage.kind == "payout_paid") == 0
    await chain_pending()  # recorded events join the chain after commit
    audit = await AuditEvent.select().where(AuditEvent.action == "payout.webhook_mismatch")
    assert [a["subject_id"] for a in audit] == [str(payout["id"])]
    [mail] = await OutboxMessage.select().where(OutboxMessage.kind == "payout_mismatch")
    assert mail["to_address"] == admin.email and "tr_forged1" in mail["subject"]
    assert mail["subject"].startswith("Un événement du prestataire de paiement")  # in the admin's language
    from marketplace.mail.tables import Notification

    [notice] = await Notification.select().where(Notification.user == admin.id)
    assert notice["kind"] == "payout_mismatch" and "tr_forged1" in notice["title"]
    assert await OutboxMessage.count().where(OutboxMessage.to_address == founder.email,
                                             OutboxMessage.kind == "payout_mismatch") == 0

    # The worker still pays the real transfer.
    assert await payouts.execute_due_payouts() == 1
    assert (await Payout.select().first())["status"] == "paid"


async def test_a_real_one_cent_transfer_naming_the_payout_does_not_pay_it(client):
    """The event is true (Stripe made that transfer) but it is not the transfer the worker made for the payout."""
    payout, _founder = await onboarded_payout(client)
    attacker = await onboarded_account(client, email="attacker@example.be")
    cent = await stripe().v1.transfers.create_async({"amount": 1, "currency": "eur", "destination": attacker,
                                                     "metadata": {"payout_id": str(payout["id"])}})
    event = transfer_event("evt_cent", {**cent.to_dict(), "amount": 500_000, "destination": "acct_lie"})
    assert (await post_event(client, event)).status_code == 200
    text = await outcome("evt_cent")
    assert "Stripe: amount is 1, expected 500000" in text and "Stripe: destination" in text
    assert (await Payout.select().first())["status"] != "paid"


async def test_an_event_for_another_transfer_than_the_one_the_worker_made_is_refused(client):
    payout, _founder = await onboarded_payout(client)
    assert await payouts.execute_due_payouts() == 1
    paid = await Payout.select().first()
    other = await stripe().v1.transfers.create_async({"amount": 500_000, "currency": "eur",
                                                      "destination": (await stripe().v1.transfers.retrieve_async(
                                                          paid["stripe_transfer_id"])).destination,
                                                      "metadata": {"payout_id": str(payout["id"])}})
    await stripe().v1.transfers.reversals.create_async(other.id)
    reversed_ = transfer_event("evt_other", (await stripe().v1.transfers.retrieve_async(other.id)).to_dict(), "transfer.reversed")
    assert (await post_event(client, reversed_)).status_code == 200
    assert "the worker made" in await outcome("evt_other")
    assert (await Payout.select().first())["status"] == "paid"  # the payout's own transfer was not reversed


async def test_a_transfer_stripe_does_not_know_changes_nothing(client):
    payout, _founder = await onboarded_payout(client)
    account = (await stripe().v1.events.list_async({"type": "account.updated"})).data[0].data.object.id
    ghost = transfer_event("evt_ghost", {"id": "tr_ghost", "amount": 500_000, "currency": "eur", "destination": account,
                                         "metadata": {"payout_id": str(payout["id"])}})
    assert (await post_event(client, ghost)).status_code == 200
    assert "Stripe has no transfer tr_ghost" in await outcome("evt_ghost")
    assert (await Payout.select().first())["status"] != "paid"


# --- order ---------------------------------------------------------------------------------------

async def deliver_in_order(client, *types: str) -> list[str]:
    """Deliver the sandbox's pending events of these types in this order (Stripe does not promise order)."""
    ids = []
    for kind in types:
        row = await SandboxEvent.select().where((SandboxEvent.type == kind) & (SandboxEvent.delivery == "pending")).first()
        await SandboxEvent.update({SandboxEvent.delivery: "delivered"}).where(SandboxEvent.id == row["id"])
        event = json.loads(row["data"])
        assert (await post_event(client, event)).status_code == 200
        ids.append(event["id"])
    return ids


async def test_a_late_transfer_created_after_a_reversal_does_not_pay_again(client):
    """Attack from the issue: reversed, then a late `transfer.created`: paid again and "Paid" mailed twice."""
    payout, founder = await onboarded_payout(client)
    assert await payouts.execute_due_payouts() == 1
    transfer_id = (await Payout.select().first())["stripe_transfer_id"]
    await stripe().v1.transfers.reversals.create_async(transfer_id)
    reversed_id, created_id = await deliver_in_order(client, "transfer.reversed", "transfer.created")
    assert await outcome(reversed_id) == "reversed"
    assert await outcome(created_id) == "already reversed"
    after = await Payout.select().first()
    assert after["status"] == "failed" and after["status_reason"] == payouts.REVERSED
    assert await OutboxMessage.count().where(OutboxMessage.kind == "payout_paid") == 1


async def test_a_payout_whose_worker_crashed_stays_reversed_whatever_the_order(client, monkeypatch):
    await onboarded_payout(client)

    async def crash(payout_id, transfer_id):
        raise ConnectionError("lost after Stripe made the transfer")

    monkeypatch.setattr(payouts, "_record_transfer", crash)
    await payouts.execute_due_payouts()
    monkeypatch.undo()
    [transfer] = (await stripe().v1.transfers.list_async()).data
    await stripe().v1.transfers.reversals.create_async(transfer.id)
    await deliver_in_order(client, "transfer.reversed", "transfer.created")
    after = await Payout.select().first()
    assert after["status"] == "failed" and after["status_reason"] == payouts.REVERSED
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        assert await payouts.execute_due_payouts() == 0  # a reversed payout is not retried
    assert await OutboxMessage.count().where(OutboxMessage.kind == "payout_paid") == 0
    assert len((await stripe().v1.transfers.list_async()).data) == 1


async def test_the_payout_state_machine_never_moves_back(client):
    """Whoever calls (worker, webhook, a retry): paid or reversed payouts are not reopened or paid again."""
    payout, _founder = await onboarded_payout(client)
    assert await payouts.execute_due_payouts() == 1
    paid = await Payout.select().first()
    await payouts._wait(paid, payouts.PROVIDER, timedelta(0))  # a late worker error after the transfer
    assert (await Payout.select().first())["status"] == "paid"
    assert await payouts._mark_reversed(paid["id"], paid["stripe_transfer_id"]) == "reversed"
    assert await payouts._mark_paid(paid["id"], paid["stripe_transfer_id"]) is False
    await payouts._wait(paid, payouts.PROVIDER, timedelta(0))
    assert await payouts._mark_reversed(paid["id"], paid["stripe_transfer_id"]) == "already reversed"
    after = await Payout.select().first()
    assert (after["status"], after["status_reason"]) == ("failed", payouts.REVERSED)
    assert await OutboxMessage.count().where(OutboxMessage.kind == "payout_paid") == 1


# --- signed but malformed, and from the future ---------------------------------------------------------

@pytest.mark.parametrize("event", [
    transfer_event("evt_bad_uuid", {"id": "tr_1", "metadata": {"payout_id": "not-a-uuid"}}),
    transfer_event("evt_nul_uuid", {"id": "tr_1", "metadata": {"payout_id": "\u0000"}}),
    {"id": "evt_list", "object": "event", "type": "transfer.created", "data": {"object": [1, 2]}},
    {"id": "evt_data_list", "object": "event", "type": "transfer.created", "data": []},
    transfer_event("evt_int_id", {"id": 12, "metadata": {"payout_id": None}}),
    transfer_event("evt_metadata_list", {"id": "tr_1", "metadata": ["payout_id"]}),
    {"id": "evt_account_nul", "object": "event", "type": "account.updated", "data": {"object": {"id": "acct_\u0000x"}}},
    {"id": "evt_account_none", "object": "event", "type": "account.updated", "data": {"object": {}}},
    {"id": "evt_" + "x" * 100, "object": "event", "type": "transfer.created", "data": {"object": {}}},
    {"id": ["evt_list_id"], "object": "event", "type": "transfer.created", "data": {"object": {}}},
    {"id": "evt_bad_type", "object": "event", "type": "transfer.created\u0000" + "x" * 100, "data": {"object": {}}},
], ids=lambda e: str(e.get("id"))[:20])
async def test_a_signed_but_malformed_event_is_acknowledged_and_recorded_as_ignored(client, event):
    response = await post_event(client, event)
    assert response.status_code == 200, response.text
    [stored] = await StripeWebhookEvent.select()
    assert stored["outcome"].startswith("ignored"), stored["outcome"]
    assert stored["processed_at"] is not None
    again = await post_event(client, event)
    assert again.status_code == 200 and again.json()["duplicate"] is True  # Stripe's retry is harmless


async def test_a_signature_timestamped_in_the_future_is_refused(client):
    event = {"id": "evt_future", "object": "event", "type": "ping.sent", "data": {"object": {}}}
    future = await post_event(client, event, at=int(time.time()) + 3600)
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "Stripe-Signature"
    assert "future" in future.json()["detail"]
    assert await StripeWebhookEvent.count() == 0
    assert (await post_event(client, event, at=int(time.time()) + 60)).status_code == 200  # clock skew within tolerance


# --- the sandbox ------------------------------------------------------------------------------

async def test_only_the_app_and_platform_admins_use_the_sandbox(client):
    """Attack: the key written in the source read every event and drained the balance."""
    await top_up(10_000)
    for path in ("/sandbox/stripe/v1/events", "/sandbox/stripe/v1/balance"):
        public_key = await client.get(path, headers={"Authorization": "Bearer sk_test_marketplace_sandbox"})
        assert public_key.status_code == 401
    drain = await client.post("/sandbox/stripe/v1/payouts", data={"amount": "10000", "currency": "eur"},
                              headers={"Authorization": "Bearer sk_test_marketplace_sandbox"})
    assert drain.status_code == 401
    assert (await stripe().v1.balance.retrieve_async()).available[0].amount == 10_000

    member = await signed_in_client(client, await make_user("company_member"))
    assert (await member.get("/sandbox/stripe/v1/balance")).status_code == 401
    member.cookies.clear()
    admin = await signed_in_client(client, await make_user(admin=True))
    assert (await admin.get("/sandbox/stripe/v1/balance")).json()["available"][0]["amount"] == 10_000
    assert (await admin.post("/sandbox/stripe/v1/payouts", data={"amount": "1", "currency": "eur"})).status_code == 401
    admin.cookies.clear()
    admin_token = await token_for(await make_user(admin=True))  # an API token is not the sandbox's key
    assert (await client.get("/sandbox/stripe/v1/balance", headers=admin_token)).status_code == 401


@pytest.mark.parametrize("url", [
    "https://evil.example/phish", "javascript:alert(document.cookie)", "//evil.example/x",
    "http://127.0.0.1:8000@evil.example/", "http://127.0.0.1:8000.evil.example/", "data:text/html,hi",
    "http://127.0.0.1:8000/\r\nLocation: https://evil.example", "", "http://127.0.0.1:8001/payouts",
])
async def test_account_link_urls_must_be_on_the_marketplace(url, override_settings):
    override_settings(base_url="http://127.0.0.1:8000")
    import stripe as stripe_sdk

    account = await stripe().v1.accounts.create_async({"type": "express"})
    for name in ("return_url", "refresh_url"):
        params = {"account": account.id, "type": "account_onboarding", "return_url": "http://127.0.0.1:8000/back",
                  "refresh_url": "http://127.0.0.1:8000/again", name: url}
        with pytest.raises(stripe_sdk.InvalidRequestError) as refused:
            await stripe().v1.account_links.create_async(params)
        assert refused.value.param == name
    assert await SandboxAccountLink.count() == 0


async def test_a_stored_link_never_redirects_off_the_marketplace(client, settings):
    account = await stripe().v1.accounts.create_async({"type": "express"})
    await SandboxAccountLink.insert(SandboxAccountLink(  # as written before URLs were checked
        token="old-link", account=account.id, return_url="https://evil.example/phish", refresh_url="javascript:alert(1)",
        expires_at=now() + timedelta(minutes=5)))
    done = await client.post("/sandbox/stripe/connect/onboarding/old-link")
    assert done.status_code == 303 and not done.headers["location"].startswith(("http", "//", "javascript"))
    expired = await client.get("/sandbox/stripe/connect/onboarding/old-link")
    assert expired.status_code == 410 and "javascript:" not in expired.text
    good = await stripe().v1.account_links.create_async({"account": account.id, "type": "account_onboarding",
                                                          "return_url": f"{settings.base_url}/payouts/setup/x/done",
                                                          "refresh_url": f"{settings.base_url}/payouts/setup/x"})
    back = await client.post(httpx.URL(good.url).path)
    assert back.headers["location"] == f"{settings.base_url}/payouts/setup/x/done"


# --- serve, and connect.py ----------------------------------------------------------------------------

def test_serve_names_its_payment_backend_and_refuses_a_public_sandbox(override_settings, monkeypatch, capsys):
    import argparse

    from marketplace import cli

    ran = []
    monkeypatch.setattr(cli, "cmd_migrate", lambda args: None)
    monkeypatch.setattr(cli, "_setup_logging", lambda: None)
    monkeypatch.setattr(cli, "run_server", lambda *a, **k: ran.append(a))
    monkeypatch.setenv("BASE_URL", "https://marketplace.example.be")
    args = argparse.Namespace(host="0.0.0.0", port=8000, workers=1, server="uvicorn")
    override_settings(base_url="https://marketplace.example.be", stripe_api_key=None, allow_public_sandbox=False)
    assert cli.cmd_serve(args) == 2 and ran == []
    err = capsys.readouterr().err
    assert "MARKETPLACE_ALLOW_PUBLIC_SANDBOX" in err and "STRIPE_API_KEY" in err and err.count("\n") == 1
    override_settings(allow_public_sandbox=True)
    assert cli.cmd_serve(args) == 0 and len(ran) == 1
    assert "Payments: the built-in Stripe sandbox" in capsys.readouterr().out
    override_settings(base_url="http://192.168.1.20:8000", allow_public_sandbox=False)
    assert cli.cmd_serve(args) == 0  # a private address: a demo on the local network
    override_settings(stripe_api_key="sk_live_abc", stripe_webhook_secret="whsec_x", base_url="https://marketplace.example.be")
    assert cli.cmd_serve(args) == 0
    assert "Payments: Stripe live mode" in capsys.readouterr().out
    assert Settings.from_env({"MARKETPLACE_ALLOW_PUBLIC_SANDBOX": "1", "SECRET_KEY": "s"}).allow_public_sandbox


async def test_a_database_outage_is_not_a_missing_company(client, monkeypatch):
    founder = await make_user("company_member")
    headers = await token_for(founder)
    from marketplace.accounts.tables import Organisation

    def outage(*args, **kwargs):
        raise ConnectionError("the database is down")

    monkeypatch.setattr(Organisation, "select", outage)
    response = await client.post(f"/api/v1/organisations/{founder.org.id}/payment-account", headers=headers)
    assert response.status_code == 503 and response.headers["retry-after"]  # try again soon; not a 404
    monkeypatch.undo()
    assert (await client.post("/api/v1/organisations/not-an-id/payment-account", headers=headers)).status_code == 404
