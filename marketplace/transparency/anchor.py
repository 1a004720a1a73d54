"""Checkpoints anchor the audit chain: every so often the worker writes the chain's head (sequence
number and hash) with an HMAC under the audit key, logs it, and publishes it (`GET
/api/v1/audit/checkpoints`, page `/audit/checkpoints`), so that readers can keep copies.
Truncating the chain (deleting its last events) or rewriting it then no longer matches a checkpoint
that someone kept, and a checkpoint cannot be forged without the key."""

from __future__ import annotations

import hmac
import logging
import uuid
from datetime import timedelta
from typing import Any

from marketplace.core.clock import now, rfc3339
from marketplace.core.db import transaction
from marketplace.settings import get_settings
from marketplace.transparency.keys import audit_mac
from marketplace.transparency.tables import AuditCheckpoint, AuditEvent

log = logging.getLogger("marketplace.audit")


def checkpoint_mac(seq: int, digest: str, created_at: str) -> str:
    return audit_mac("checkpoint", f"{seq}:{digest}:{created_at}")


def checkpoint_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"seq": row["seq"], "hash": row["hash"], "created_at": rfc3339(row["created_at"]), "mac": row["mac"]}


async def write_checkpoint() -> dict[str, Any] | None:
    """Anchor the chain's current head (after chaining what is pending); None when the chain is empty
    or its head is already anchored."""
    from marketplace.transparency.audit import chain_pending

    await chain_pending()
    async with transaction():
        head = await AuditEvent.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq, ascending=False).first()
        if head is None or await AuditCheckpoint.exists().where(AuditCheckpoint.seq >= head["seq"]):
            return None
        moment = now().replace(microsecond=0)
        created = rfc3339(moment)
        row = AuditCheckpoint(id=uuid.uuid4(), seq=head["seq"], hash=head["hash"], created_at=moment,
                              mac=checkpoint_mac(head["seq"], head["hash"], created))
        await AuditCheckpoint.insert(row)
    out = checkpoint_out(row.to_dict())
    log.info("audit checkpoint #%s %s %s mac %s", out["seq"], out["hash"], out["created_at"], out["mac"], extra={"audit_checkpoint": out})
    return out


async def write_checkpoint_when_due() -> int:
    """The worker's job: a checkpoint when the last one is older than `MARKETPLACE_AUDIT_CHECKPOINT_MINUTES`."""
    last = await AuditCheckpoint.select(AuditCheckpoint.created_at).order_by(AuditCheckpoint.seq, ascending=False).first()
    every = timedelta(minutes=get_settings().audit_checkpoint_minutes)
    if last is not None and now() - last["created_at"] < every:
        return 0
    return 1 if await write_checkpoint() else 0


async def published(limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """The latest checkpoints, newest first (`before`: only those of a lower sequence number)."""
    query = AuditCheckpoint.select()
    if before is not None:
        query = query.where(AuditCheckpoint.seq < before)
    return [checkpoint_out(r) for r in await query.order_by(AuditCheckpoint.seq, ascending=False).limit(limit)]


def authentic(checkpoint: dict[str, Any]) -> bool:
    try:
        expected = checkpoint_mac(int(checkpoint["seq"]), str(checkpoint["hash"]), str(checkpoint["created_at"]))
    except (KeyError, TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, str(checkpoint.get("mac", "")))


async def trusted_heads(kept: list[dict[str, Any]]) -> Any:
    """Every checkpoint stored or kept by a reader, by sequence number, after checking its MAC.
    A checkpoint that is not authentic makes the verification fail (a Verification is returned)."""
    from marketplace.transparency.audit import Verification

    heads: dict[int, dict[str, Any]] = {}
    for cp in [*(checkpoint_out(r) for r in await AuditCheckpoint.select()), *kept]:
        if not authentic(cp):
            return Verification(ok=False, checked=0, broken_seq=_seq(cp), reason=(
                f"the checkpoint of {cp.get('created_at')} for event #{cp.get('seq')} is not authentic (its MAC does not match)"))
        heads[int(cp["seq"])] = cp
    return heads


def _seq(cp: dict[str, Any]) -> int | None:
    try:
        return int(cp["seq"])
    except (KeyError, TypeError, ValueError):
        return None
