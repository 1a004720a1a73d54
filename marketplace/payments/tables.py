"""Payments: payouts of accepted milestones, each company's connected Stripe account and the webhook events received from Stripe."""

from enum import Enum

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.payments.sandbox.tables import (  # noqa: F401 - the sandbox's tables belong to this app
    SandboxAccountLink,
    SandboxBalance,
    SandboxEvent,
    SandboxIdempotencyKey,
    SandboxObject,
)


class PaymentAccount(Table):
    """A company's Stripe Connect account. `payouts_enabled` follows the `account.updated` webhook."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, unique=True)
    stripe_account_id = Varchar(length=64, unique=True)
    payouts_enabled = Boolean(default=False)
    details_submitted = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StripeWebhookEvent(Table):
    """Every verified event, stored once (unique Stripe id): a replay finds it and changes nothing."""

    id = UUID(primary_key=True)
    stripe_event_id = Varchar(length=64, unique=True)
    type = Varchar(length=80, index=True)
    payload = Text()
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=200, default="")


class Payout(Table):
    """The payment of one accepted milestone (unique: a milestone is paid once), created in the
    acceptance's transaction and executed by the worker. The payment clock runs from `accepted_at`."""

    class Status(str, Enum):
        pending = "pending"  # accepted; the transfer is about to be made
        waiting = "waiting"  # cannot be made yet (onboarding, balance, Stripe unreachable): retried
        paid = "paid"
        failed = "failed"  # Stripe refused for good; `status_reason` says why

    id = UUID(primary_key=True)
    milestone = ForeignKey(references=Milestone, unique=True)
    experiment = ForeignKey(references=Experiment, index=True)
    contract_id = UUID(null=True, default=None, index=True)
    company = ForeignKey(references=Organisation, index=True)
    buyer = ForeignKey(references=Organisation, index=True)
    amount_cents = BigInt()
    currency = Varchar(length=3, default="EUR")
    status = Varchar(length=10, choices=Status, default=Status.pending, index=True)
    status_reason = Text(default="")
    idempotency_key = Varchar(length=200, unique=True)  # derived from the milestone
    key_generation = Integer(default=0)  # moves on only after Stripe's definite refusal
    transfer_group = Varchar(length=100)
    stripe_transfer_id = Varchar(length=64, null=True, default=None, unique=True)
    accepted_at = Timestamptz()
    due_by = Timestamptz(index=True)
    paid_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
