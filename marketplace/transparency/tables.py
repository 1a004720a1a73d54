"""The audit trail: append-only events, each hashing the previous event's hash and its own canonical JSON,
events recorded but not yet chained, and the published checkpoints of the chain's head."""

from piccolo.columns import UUID, BigInt, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table):
    """One thing that happened, never updated nor deleted (no code path does; `marketplace audit
    verify` finds any change). `seq` orders the chain; `hash` = SHA-256(prev_hash + canonical JSON);
    `mac` = HMAC(audit key, hash), `body_mac` = HMAC(audit key, content) taken when it was recorded."""

    id = UUID(primary_key=True)
    seq = BigInt(unique=True)
    occurred_at = Timestamptz()
    actor = Varchar(length=80)  # a user id, or "system" (worker, webhook)
    ip = Varchar(length=45, default="")  # where the request came from ("" for the worker)
    action = Varchar(length=80, index=True)
    subject_type = Varchar(length=40)
    subject_id = Varchar(length=80)
    subject = Varchar(length=121, index=True)  # "type:id", what ?subject= filters on
    data = Text(default="{}")  # canonical JSON
    body_mac = Varchar(length=64, default="")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
    mac = Varchar(length=64, default="")


class PendingAuditEvent(Table):
    """An event recorded in its domain's transaction, waiting (seconds) to be linked into the chain:
    recording takes no lock; `audit.chain_pending()` moves these into `AuditEvent` in order."""

    id = UUID(primary_key=True)
    occurred_at = Timestamptz(index=True)
    actor = Varchar(length=80)
    ip = Varchar(length=45, default="")
    action = Varchar(length=80)
    subject_type = Varchar(length=40)
    subject_id = Varchar(length=80)
    data = Text(default="{}")
    body_mac = Varchar(length=64)


class AuditCheckpoint(Table):
    """The chain's head at a moment, authenticated with the audit key, published for readers to keep."""

    id = UUID(primary_key=True)
    seq = BigInt(unique=True)
    hash = Varchar(length=64)
    created_at = Timestamptz()
    mac = Varchar(length=64)
