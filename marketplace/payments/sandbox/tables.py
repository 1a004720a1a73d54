"""The sandbox's own state: Stripe objects as JSON, the platform balance, idempotency keys, events."""

from enum import Enum

from piccolo.columns import UUID, BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SandboxObject(Table):
    """An account, transfer, payout or top-up, stored as the JSON Stripe would answer."""

    id = UUID(primary_key=True)
    stripe_id = Varchar(length=64, unique=True)
    kind = Varchar(length=30, index=True)
    data = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class SandboxBalance(Table):
    """The platform's available balance per currency (lower case, as Stripe writes it)."""

    id = UUID(primary_key=True)
    currency = Varchar(length=3, unique=True)
    available = BigInt(default=0)


class SandboxIdempotencyKey(Table):
    """The first answer given for an idempotency key, replayed for the same request."""

    id = UUID(primary_key=True)
    key = Varchar(length=320, unique=True)  # api key hash + the client's key
    fingerprint = Varchar(length=64)
    status_code = Integer()
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class SandboxAccountLink(Table):
    """A single-use, expiring onboarding link."""

    id = UUID(primary_key=True)
    token = Varchar(length=64, unique=True)
    account = Varchar(length=64, index=True)
    return_url = Text()
    refresh_url = Text()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class SandboxEvent(Table):
    """An event, and the state of its delivery to the marketplace's webhook endpoint."""

    class Delivery(str, Enum):
        pending = "pending"
        delivering = "delivering"
        delivered = "delivered"
        failed = "failed"  # gave up after the last retry

    id = UUID(primary_key=True)
    stripe_id = Varchar(length=64, unique=True)
    type = Varchar(length=60, index=True)
    data = Text()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    delivery = Varchar(length=12, choices=Delivery, default=Delivery.pending, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
