"""Payouts: an accepted milestone becomes one Stripe transfer, exactly once, whatever happens:
concurrent accepts, a crash between the Stripe call and the commit, retried webhooks, double clicks.
Waiting payouts say why and are retried by the worker."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace.core.clock import now
from marketplace.payments import payouts
from marketplace.payments.tables import Payout
from tests.factories import make_user, token_for
from tests.factories_payments import (
    deliver,
    deliver_webhooks,
    make_experiment,
    onboard_company,
    route_payments_to,
    stripe,
    top_up,
)


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


async def accepted_milestone(client, amount_cents=500_000):
    """An experiment whose first milestone was delivered and accepted; returns (milestone id, parties' headers)."""
    experiment_id, servant, officer, founder = await make_experiment(amount_cents=amount_cents)
    company, buyer = await token_for(founder), await token_for(officer)
    first = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).json()["milestones"][0]["id"]
    await deliver(client, first, company)
    accepted = await client.post(f"/api/v1/milestones/{first}/review", headers=buyer, json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    return first, founder, company, buyer


async def transfers():
    return (await stripe().v1.transfers.list_async({"limit": 100})).data


async def test_payout_waits_for_onboarding_then_for_funds_then_is_paid(client):
    milestone, founder, company, buyer = await accepted_milestone(client)
    assert await payouts.execute_due_payouts() == 0
    payout = await Payout.select().first()
    assert payout["status"] == "waiting" and payout["status_reason"] == payouts.ONBOARDING
    listed = (await client.get("/api/v1/payouts", headers=buyer)).json()["items"]
    assert listed[0]["status_reason"] == payouts.ONBOARDING  # the buyer sees why too

    await onboard_company(client, founder, company)  # account.updated wakes the payout
    assert await payouts.execute_due_payouts() == 0
    payout = await Payout.select().first()
    assert payout["status"] == "waiting" and payout["status_reason"] == payouts.BALANCE

    await top_up(1_000_000)
    assert await payouts.execute_due_payouts() == 0  # backing off
    with time_machine.travel(now() + timedelta(minutes=10), tick=False):
        assert await payouts.execute_due_payouts() == 1
    payout = await Payout.select().first()
    assert payout["status"] == "paid" and payout["stripe_transfer_id"].startswith("tr_") and payout["paid_at"]
    [transfer] = await transfers()
    assert transfer.amount == 500_000 and transfer.metadata["milestone_id"] == milestone
    assert transfer.transfer_group == payout["transfer_group"]
    await deliver_webhooks()  # transfer.created confirms, changes nothing
    from marketplace.mail.tables import OutboxMessage

    told = await OutboxMessage.select().where(OutboxMessage.kind == "payout_paid")
    assert [m["to_address"] for m in told] == [founder.email]  # once, though both the worker and the webhook saw it
    assert "€5,000.00" in told[0]["body_text"]
    assert (await Payout.select().first())["stripe_transfer_id"] == transfer.id
    company_view = (await client.get("/api/v1/payouts", headers=company)).json()["items"]
    assert company_view[0]["status"] == "paid" and company_view[0]["stripe_transfer_id"] == transfer.id


async def test_twenty_concurrent_accepts_make_one_payout_and_one_transfer(client):
    experiment_id, servant, officer, founder = await make_experiment()
    company = await token_for(founder)
    await onboard_company(client, founder, company)
    await top_up(10_000_000)
    first = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).json()["milestones"][0]["id"]
    await deliver(client, first, company)
    reviewers = [await token_for(officer), await token_for(servant)]
    responses = await asyncio.gather(*[
        client.post(f"/api/v1/milestones/{first}/review", headers=reviewers[i % 2], json={"decision": "accept"})
        for i in range(20)
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, statuses
    assert await Payout.count() == 1
    results = await asyncio.gather(*[payouts.execute_due_payouts() for _ in range(5)])
    assert sum(results) == 1
    assert len(await transfers()) == 1


async def test_a_crash_between_the_transfer_and_the_commit_pays_once(client, monkeypatch):
    _milestone, founder, company, _buyer = await accepted_milestone(client)
    await onboard_company(client, founder, company)
    await top_up(1_000_000)

    async def crash(payout_id, transfer_id):
        raise ConnectionError("the database went away after Stripe made the transfer")

    record = payouts._record_transfer
    monkeypatch.setattr(payouts, "_record_transfer", crash)
    assert await payouts.execute_due_payouts() == 0
    assert len(await transfers()) == 1
    assert (await Payout.select().first())["status"] != "paid"
    monkeypatch.setattr(payouts, "_record_transfer", record)
    assert await payouts.execute_due_payouts() == 0  # still claimed by the crashed run
    with time_machine.travel(now() + payouts.CLAIM + timedelta(seconds=1), tick=False):
        assert await payouts.execute_due_payouts() == 1  # same idempotency key: Stripe replays the transfer
    assert len(await transfers()) == 1
    payout = await Payout.select().first()
    assert payout["status"] == "paid" and payout["stripe_transfer_id"] == (await transfers())[0].id
    balance = await stripe().v1.balance.retrieve_async()
    assert balance.available[0].amount == 500_000


async def test_the_transfer_webhook_confirms_a_payout_whose_worker_crashed(client, monkeypatch):
    _milestone, founder, company, _buyer = await accepted_milestone(client)
    await onboard_company(client, founder, company)
    await top_up(1_000_000)

    async def crash(payout_id, transfer_id):
        raise ConnectionError("lost")

    monkeypatch.setattr(payouts, "_record_transfer", crash)
    await payouts.execute_due_payouts()
    await deliver_webhooks()
    payout = await Payout.select().first()
    assert payout["status"] == "paid" and payout["stripe_transfer_id"] == (await transfers())[0].id
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        assert await payouts.execute_due_payouts() == 0
    assert len(await transfers()) == 1


async def test_a_double_click_on_accept_pays_once(client):
    _milestone, founder, company, buyer = await accepted_milestone(client)
    milestone = (await Payout.select().first())["milestone"]
    again = await client.post(f"/api/v1/milestones/{milestone}/review", headers=buyer, json={"decision": "accept"})
    assert again.status_code == 409
    await onboard_company(client, founder, company)
    await top_up(1_000_000)
    assert await payouts.execute_due_payouts() == 1
    assert await payouts.execute_due_payouts() == 0
    assert len(await transfers()) == 1


async def test_a_stripe_timeout_keeps_the_payout_waiting_with_the_same_key(client, monkeypatch):
    _milestone, founder, company, _buyer = await accepted_milestone(client)
    await onboard_company(client, founder, company)
    await top_up(1_000_000)
    import stripe as stripe_sdk

    from marketplace.payments import gateway

    class Down:
        class v1:  # noqa: N801
            class transfers:  # noqa: N801
                @staticmethod
                async def create_async(*args, **kwargs):
                    raise stripe_sdk.APIConnectionError("timed out")

    monkeypatch.setattr(gateway, "client", lambda: Down)
    assert await payouts.execute_due_payouts() == 0
    payout = await Payout.select().first()
    assert payout["status"] == "waiting" and payout["status_reason"] == payouts.PROVIDER and payout["key_generation"] == 0
    monkeypatch.undo()
    route_payments_to(client._transport.app)
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        assert await payouts.execute_due_payouts() == 1


async def test_payouts_list_shows_only_the_parties_payouts(client):
    await accepted_milestone(client)
    outsider = await token_for(await make_user("company_member"))
    assert (await client.get("/api/v1/payouts")).status_code == 401
    assert (await client.get("/api/v1/payouts", headers=outsider)).json()["items"] == []
    payout = await Payout.select().first()
    _, _, company, _ = await accepted_milestone(client)
    mine = (await client.get(f"/api/v1/payouts?experiment_id={payout['experiment']}", headers=company)).json()["items"]
    assert mine == []  # another company's experiment
    assert (await client.get("/api/v1/payouts?contract_id=zzz", headers=company)).status_code == 422


async def test_late_payment_interest_and_compensation_with_a_frozen_clock(client, override_settings):
    override_settings(ecb_reference_rate_bp=215)
    accepted_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(accepted_at, tick=False):
        _milestone, _founder, _company, buyer = await accepted_milestone(client, amount_cents=1_000_000)
    with time_machine.travel(accepted_at + timedelta(days=20), tick=False):
        item = (await client.get("/api/v1/payouts", headers=buyer)).json()["items"][0]
        assert item["days_left"] == 10 and item["late_interest"]["amount"] == 0 and item["compensation"]["amount"] == 0
        assert item["due_by"] == "2026-04-01T10:00:00Z"
    with time_machine.travel(accepted_at + timedelta(days=40), tick=False):
        item = (await client.get("/api/v1/payouts", headers=buyer)).json()["items"][0]
        # 10 days late: 10,000.00 × 10.15 % × 10 / 365 = 27.808... → EUR 27.81, plus EUR 40
        assert item["days_left"] == -10
        assert item["late_interest"] == {"amount": 2781, "currency": "EUR"}
        assert item["compensation"] == {"amount": 4000, "currency": "EUR"}


def test_late_interest_arithmetic_in_integer_cents():
    from marketplace.payments.clock import compensation_cents, days_late, late_interest_cents

    assert late_interest_cents(1_000_000, 0, 215) == 0
    assert late_interest_cents(1_000_000, 1, 215) == 278  # 278.08 cents
    assert late_interest_cents(1_000_000, 365, 215) == 101_500  # a full year at 10.15 %
    assert late_interest_cents(1, 1, 215) == 0
    assert late_interest_cents(3_000_000, 45, 400) == 44_384  # 12 % on 30,000 for 45 days = 443.835...
    due = datetime(2026, 4, 1, 10, tzinfo=UTC)
    assert days_late(due, datetime(2026, 4, 1, 23, tzinfo=UTC), due) == 0
    assert days_late(due, None, datetime(2026, 4, 3, 1, tzinfo=UTC)) == 2
    assert compensation_cents(0) == 0 and compensation_cents(1) == 4000


async def test_the_payment_statement_shows_the_clock_and_late_interest(client):
    from tests.factories_contracts import pdf_text

    accepted_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(accepted_at, tick=False):
        _milestone, founder, company, buyer = await accepted_milestone(client, amount_cents=1_000_000)
    payout = await Payout.select().first()
    with time_machine.travel(accepted_at + timedelta(days=40), tick=False):
        response = await client.get(f"/api/v1/payouts/{payout['id']}/statement?lang=en", headers=buyer)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        _pages, text = pdf_text(response.content)
        assert "Payment statement" in text and "10 days late" in text and "€27.81" in text and "€40.00" in text
        assert (await client.get(f"/api/v1/payouts/{payout['id']}/statement", headers=company)).status_code == 200
    outsider = await token_for(await make_user("company_member"))
    assert (await client.get(f"/api/v1/payouts/{payout['id']}/statement", headers=outsider)).status_code == 404
    assert (await client.get(f"/api/v1/payouts/{payout['id']}/statement")).status_code == 401
    assert (await client.get("/api/v1/payouts/nope/statement", headers=buyer)).status_code == 404


async def test_payment_metrics_count_days_to_pay_and_lateness(client):
    from marketplace.payments.metrics import payment_metrics

    accepted_at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with time_machine.travel(accepted_at, tick=False):
        _milestone, founder, company, _buyer = await accepted_milestone(client)
    payout = await Payout.select().first()
    with time_machine.travel(accepted_at + timedelta(days=35), tick=False):
        assert (await payment_metrics(payout["buyer"]))["overdue"] == 1
        await onboard_company(client, founder, company)
        await top_up(1_000_000)
        await payouts.execute_due_payouts()
        metrics = await payment_metrics(payout["buyer"])
    assert metrics == {"paid": 1, "median_days_to_pay": 35, "paid_late": 1, "overdue": 0}
