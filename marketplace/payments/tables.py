"""Payments: each company's connected Stripe account and the webhook events received from Stripe."""

from piccolo.columns import UUID, Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation
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
