"""The audit trail: append-only events, each hashing the previous event's hash and its own canonical JSON."""

from piccolo.columns import UUID, BigInt, Text, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table):
    """One thing that happened, never updated nor deleted (no code path does; `marketplace audit
    verify` finds any change). `seq` orders the chain; `hash` = SHA-256(prev_hash + canonical JSON)."""

    id = UUID(primary_key=True)
    seq = BigInt(unique=True)
    occurred_at = Timestamptz()
    actor = Varchar(length=80)  # a user id, or "system" (worker, webhook)
    action = Varchar(length=80, index=True)
    subject_type = Varchar(length=40)
    subject_id = Varchar(length=80)
    subject = Varchar(length=121, index=True)  # "type:id", what ?subject= filters on
    data = Text(default="{}")  # canonical JSON
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
