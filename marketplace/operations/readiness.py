"""Readiness: may this instance take traffic? The database answers, every migration is applied, and a
background worker stamped its heartbeat recently (without one, mail, deadlines and payouts stand still)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from marketplace.core import db
from marketplace.core.clock import now
from marketplace.operations import heartbeat
from marketplace.settings import get_settings

log = logging.getLogger("marketplace.operations")

DATABASE_TIMEOUT_SECONDS = 2.0
_migrated = {"yes": False}  # migrations only move forward while the code runs: once applied, not checked again


@dataclass
class Check:
    name: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


async def database() -> Check:
    try:
        await asyncio.wait_for(db.engine().run_ddl("SELECT 1"), DATABASE_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is logged, not shown
        log.warning("readiness: the database does not answer: %r", exc)
        return Check("database", False, "does not answer")
    return Check("database", True, "answers")


async def migrations() -> Check:
    if not _migrated["yes"]:
        pending = await db.pending_migrations()
        if pending:
            return Check("migrations", False, f"{len(pending)} pending: run `marketplace migrate`", {"pending": len(pending)})
        _migrated["yes"] = True
    return Check("migrations", True, "applied", {"pending": 0})


async def worker() -> Check:
    max_age = get_settings().worker_heartbeat_max_age_seconds
    beat = await heartbeat.latest()
    if beat is None:
        return Check("worker", False, "no worker has ever reported (is `marketplace worker` running?)")
    age = max(0.0, (now() - beat).total_seconds())
    details = {"heartbeat_age_seconds": round(age, 1), "max_age_seconds": max_age,
               "alive": await heartbeat.alive(timedelta(seconds=max_age))}
    if age > max_age:
        return Check("worker", False, f"last heartbeat {age:.0f} s ago (at most {max_age} s)", details)
    return Check("worker", True, f"last heartbeat {age:.0f} s ago", details)


async def checks() -> list[Check]:
    """Every check, in order; a database that does not answer stops there (the others would only repeat it)."""
    first = await database()
    if not first.ok:
        return [first]
    out = [first, await migrations()]
    if out[-1].ok:
        out.append(await worker())
    return out
