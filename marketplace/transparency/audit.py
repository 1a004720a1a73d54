"""The audit trail, for every domain:

    from marketplace.transparency.audit import record
    await record(actor, action, subject_type, subject_id, data, before=..., after=...)

`actor` is a Principal, a user id, or None for the system (worker, webhooks); `action` a dotted
verb such as "payout.paid"; `data` a small JSON-able dict (no secrets, no sealed proposal content);
`before`/`after` the state the action changed (e.g. `{"status": "draft"}` -> `{"status": "published"}`).
Where it came from (the client's IP address) is taken from the request being served.
Call it inside your own `transaction()`: the event is written with your change or not at all.

Recording takes no lock: the event is written to `PendingAuditEvent` with a MAC of its content.
Linking it into the chain happens after commit, in a short transaction of its own (`chain_pending()`:
the worker every round, and before anyone reads or verifies the trail), so writers never wait for
each other on the audit trail. The chain: hash = sha256(prev_hash + canonical JSON of the event),
the first event's prev_hash being 64 zeros; each event also carries `mac` = HMAC(audit key, hash),
so an event cannot be rewritten and its successors rehashed without the key, which the database
does not hold (see `marketplace.transparency.anchor`).
`marketplace audit verify` (and `verify()`) recomputes the chain, checks it against the published
checkpoints, and names the first bad event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

from marketplace.core.auth import acting_user
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import is_postgres, transaction
from marketplace.core.logs import client_address
from marketplace.transparency.keys import audit_mac
from marketplace.transparency.tables import AuditEvent, PendingAuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 7_304_212_001  # pg_advisory_xact_lock key of the chainer (never held by a writer)
_FIELDS = ("actor", "ip", "action", "subject_type", "subject_id", "data", "body_mac")


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept, non-JSON values as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _body(event: dict[str, Any]) -> dict[str, Any]:
    """What an event says, without its place in the chain. `ip` and `body_mac` only when present,
    so events written before they existed keep their hashes."""
    body = {"occurred_at": rfc3339(event["occurred_at"]), "actor": event["actor"], "action": event["action"],
            "subject_type": event["subject_type"], "subject_id": event["subject_id"], "data": json.loads(event["data"])}
    if event.get("ip"):
        body["ip"] = event["ip"]
    return body


def body_mac(event: dict[str, Any]) -> str:
    """The MAC of an event's content, computed when it is recorded (before it has a place in the chain)."""
    return audit_mac("event", canonical(_body(event)))


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    body = {"seq": int(event["seq"]), **_body(event)}
    if event.get("body_mac"):
        body["body_mac"] = event["body_mac"]
    return hashlib.sha256((prev_hash + canonical(body)).encode()).hexdigest()


def chain_mac(digest: str) -> str:
    """The MAC of a chained event's hash: rehashing the chain after an edit breaks it."""
    return audit_mac("chain", digest)


def _actor(actor: Any) -> str:
    """A Principal or user id; None: the person signed in to the request being served, else the system."""
    if actor is None:
        return acting_user.get() or "system"
    return str(getattr(actor, "user_id", actor))


async def record(actor: Any, action: str, subject_type: str, subject_id: Any, data: dict[str, Any] | None = None, *,
                 before: Any = None, after: Any = None, ip: str | None = None) -> str:
    """Record one event, in the caller's transaction (or a new one); returns its id. No lock is taken:
    the event joins the hash chain once committed (`chain_pending`)."""
    content = dict(data or {})
    if before is not None:
        content["before"] = before
    if after is not None:
        content["after"] = after
    moment = now()
    event = {
        "occurred_at": moment.replace(microsecond=moment.microsecond // 1000 * 1000),
        "actor": _actor(actor)[:80], "ip": (ip or client_address.get() or "")[:45], "action": action[:80],
        "subject_type": subject_type[:40], "subject_id": str(subject_id)[:80], "data": canonical(content),
    }
    event["body_mac"] = body_mac(event)
    event_id = uuid.uuid4()
    async with transaction():
        await PendingAuditEvent.insert(PendingAuditEvent(id=event_id, **event))
    return str(event_id)


async def chain_pending(batch: int = 500) -> int:
    """Give every committed pending event its place in the chain (oldest first); returns how many.
    One short transaction per batch, serialised by a lock that only chaining takes."""
    chained = 0
    if not await PendingAuditEvent.exists():  # the usual case: no write lock taken for nothing
        return 0
    while True:
        async with transaction():
            if is_postgres():
                await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", _LOCK_KEY)
            pending = await PendingAuditEvent.select().order_by(PendingAuditEvent.occurred_at).order_by(
                PendingAuditEvent.id).limit(batch)
            if not pending:
                return chained
            last = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
            seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS)
            rows = []
            for p in pending:
                seq += 1
                event = {"seq": seq, "occurred_at": p["occurred_at"], **{k: p[k] for k in _FIELDS}}
                digest = event_hash(prev, event)
                rows.append(AuditEvent(id=p["id"], subject=f"{p['subject_type']}:{p['subject_id']}", prev_hash=prev, hash=digest,
                                       mac=chain_mac(digest), **event))
                prev = digest
            await AuditEvent.insert(*rows)
            await PendingAuditEvent.delete().where(PendingAuditEvent.id.is_in([p["id"] for p in pending]))
            chained += len(pending)


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: str | None = None
    reason: str = ""
    checkpoints: int = 0


def _problem(row: dict[str, Any], prev: str, expected_seq: int) -> str:
    if row["seq"] != expected_seq:
        missing = f"#{expected_seq}" if row["seq"] == expected_seq + 1 else f"#{expected_seq} to #{row['seq'] - 1}"
        return f"the event before it is missing (expected event #{expected_seq}; {missing} missing)"
    if row["prev_hash"] != prev:
        return "its previous hash does not match the event before it (events removed, inserted or reordered)"
    try:
        recomputed = event_hash(prev, row)
    except (ValueError, TypeError):
        recomputed = ""
    if recomputed != row["hash"]:
        return "its content does not match its hash (changed after it was written)"
    if row.get("body_mac") and not hmac.compare_digest(row["body_mac"], body_mac(row)):
        return "its content does not match the MAC it was recorded with (changed, then rehashed)"
    if not row.get("mac") or not hmac.compare_digest(row["mac"], chain_mac(row["hash"])):
        return "its hash is not authenticated by the audit key (the chain was rewritten and rehashed from here)"
    if row["subject"] != f"{row['subject_type']}:{row['subject_id']}":
        return "its subject does not match its subject type and id"
    return ""


async def verify(batch: int = 1000, checkpoints: list[dict[str, Any]] | None = None) -> Verification:
    """Chain what is pending, then recompute the whole chain in order and hold it against every
    checkpoint (those stored, and `checkpoints` a reader kept); stop at the first bad event."""
    from marketplace.transparency import anchor

    await chain_pending()
    prev, expected_seq, checked = GENESIS, 1, 0
    heads = await anchor.trusted_heads(checkpoints or [])
    if isinstance(heads, Verification):
        return heads
    while True:
        rows = await AuditEvent.select().where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq).limit(batch)
        if not rows:
            break
        for row in rows:
            problem = _problem(row, prev, expected_seq)
            if not problem and row["seq"] in heads and heads[row["seq"]]["hash"] != row["hash"]:
                problem = f"its hash differs from the checkpoint of {heads[row['seq']]['created_at']}"
            if problem:
                return Verification(ok=False, checked=checked, broken_seq=min(row["seq"], expected_seq) if "missing" in problem
                                    else row["seq"], broken_id=str(row["id"]), reason=problem, checkpoints=len(heads))
            prev, expected_seq, checked = row["hash"], expected_seq + 1, checked + 1
    beyond = [seq for seq in heads if seq >= expected_seq]
    if beyond:
        top = max(beyond)
        return Verification(ok=False, checked=checked, broken_seq=expected_seq, reason=(
            f"events #{expected_seq} to #{top} are missing: the checkpoint of {heads[top]['created_at']} saw the chain reach #{top}"),
            checkpoints=len(heads))
    return Verification(ok=True, checked=checked, checkpoints=len(heads))


def event_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "seq": row["seq"], "occurred_at": rfc3339(row["occurred_at"]), "actor": row["actor"],
            "ip": row.get("ip") or None, "action": row["action"], "subject_type": row["subject_type"], "subject_id": row["subject_id"],
            "data": json.loads(row["data"]), "prev_hash": row["prev_hash"], "hash": row["hash"]}
