"""The audit trail, for every domain:

    from marketplace.transparency.audit import record
    await record(actor, action, subject_type, subject_id, data)

`actor` is a Principal, a user id, or None for the system (worker, webhooks); `action` a dotted
verb such as "payout.paid"; `data` a small JSON-able dict (no secrets, no sealed proposal content).
Call it inside your own `transaction()`: the event is written with your change or not at all.
Events form a SHA-256 hash chain: hash = sha256(prev_hash + canonical JSON of the event), the first
event's prev_hash being 64 zeros. Writers are serialised (PostgreSQL: a transaction-scoped advisory
lock; SQLite: the immediate transaction's write lock) so the chain never forks.
`marketplace audit verify` (and `verify()`) recomputes the chain and names the first broken event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from marketplace.core.clock import now, rfc3339
from marketplace.core.db import is_postgres, transaction
from marketplace.transparency.tables import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 7_304_212_001  # pg_advisory_xact_lock key of the audit chain


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept, non-JSON values as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    body = canonical({
        "seq": int(event["seq"]), "occurred_at": rfc3339(event["occurred_at"]), "actor": event["actor"],
        "action": event["action"], "subject_type": event["subject_type"], "subject_id": event["subject_id"],
        "data": json.loads(event["data"]),
    })
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _actor(actor: Any) -> str:
    if actor is None:
        return "system"
    return str(getattr(actor, "user_id", actor))


async def record(actor: Any, action: str, subject_type: str, subject_id: Any, data: dict[str, Any] | None = None) -> str:
    """Append one event to the chain, in the caller's transaction (or a new one); returns its hash."""
    async with transaction():
        if is_postgres():
            await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", _LOCK_KEY)
        last = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
        moment = now()
        event = {
            "seq": (last["seq"] + 1) if last else 1, "occurred_at": moment.replace(microsecond=moment.microsecond // 1000 * 1000),
            "actor": _actor(actor)[:80], "action": action[:80], "subject_type": subject_type[:40], "subject_id": str(subject_id)[:80],
            "data": canonical(data or {}),
        }
        prev = last["hash"] if last else GENESIS
        digest = event_hash(prev, event)
        await AuditEvent.insert(AuditEvent(
            id=uuid.uuid4(), subject=f"{event['subject_type']}:{event['subject_id']}", prev_hash=prev, hash=digest, **event))
        return digest


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: str | None = None
    reason: str = ""


async def verify(batch: int = 1000) -> Verification:
    """Recompute the whole chain in order; stop at the first event whose links or hash do not hold."""
    prev, expected_seq, checked = GENESIS, 1, 0
    while True:
        rows = await AuditEvent.select().where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(batch)
        if not rows:
            return Verification(ok=True, checked=checked)
        for row in rows:
            problem = ""
            if row["seq"] != expected_seq:
                problem = f"expected event #{expected_seq}, found #{row['seq']} (an event is missing)"
            elif row["prev_hash"] != prev:
                problem = "its previous hash does not match the event before it"
            else:
                try:
                    recomputed = event_hash(prev, row)
                except (ValueError, TypeError):
                    recomputed = ""
                if recomputed != row["hash"]:
                    problem = "its content does not match its hash (changed after it was written)"
                elif row["subject"] != f"{row['subject_type']}:{row['subject_id']}":
                    problem = "its subject does not match its subject type and id"
            if problem:
                return Verification(ok=False, checked=checked, broken_seq=row["seq"], broken_id=str(row["id"]), reason=problem)
            prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1


def event_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "seq": row["seq"], "occurred_at": rfc3339(row["occurred_at"]), "actor": row["actor"],
            "action": row["action"], "subject_type": row["subject_type"], "subject_id": row["subject_id"],
            "data": json.loads(row["data"]), "prev_hash": row["prev_hash"], "hash": row["hash"]}


