"""The background worker's heartbeat: a row per worker, stamped at most every few seconds after its rounds.

`/readyz` and `/metrics` read the newest stamp, whichever app instance asks (the database is shared)."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta

from marketplace.core.clock import as_utc, now
from marketplace.core.db import is_unavailable
from marketplace.operations.tables import WorkerHeartbeat

log = logging.getLogger("marketplace.worker")

EVERY_SECONDS = 5.0
"""How often a busy or idle worker stamps its row (an idle worker runs a round every half second)."""
FORGOTTEN_AFTER = timedelta(days=1)
"""Rows of workers gone this long are removed, so stopped workers do not pile up."""

_last = {"at": float("-inf")}


def worker_name() -> str:
    """`host:pid`: one row per worker process, on whichever machine it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat(worker: str | None = None) -> None:
    """Stamp this worker's row with the current time (created on its first beat)."""
    worker = worker or worker_name()
    moment = now()
    stamped = await WorkerHeartbeat.update({WorkerHeartbeat.beat_at: moment}).where(
        WorkerHeartbeat.worker == worker).returning(WorkerHeartbeat.id)
    if not stamped:
        await WorkerHeartbeat.delete().where(WorkerHeartbeat.beat_at < moment - FORGOTTEN_AFTER)
        await WorkerHeartbeat.insert(WorkerHeartbeat(worker=worker, started_at=moment, beat_at=moment))


async def beat_if_due() -> None:
    """Called after every round: stamps every EVERY_SECONDS at most. A database that cannot be reached is
    logged in one line and the worker goes on (the jobs say the same; readiness will show the stamp ageing)."""
    if time.monotonic() - _last["at"] < EVERY_SECONDS:
        return
    try:
        await beat()
    except Exception as exc:  # noqa: BLE001 - the heartbeat must never stop the worker
        if not is_unavailable(exc):
            log.exception("could not record the worker heartbeat")
        return
    _last["at"] = time.monotonic()


async def latest() -> datetime | None:
    """The newest stamp of any worker, or None when no worker ever beat."""
    row = await WorkerHeartbeat.select(WorkerHeartbeat.beat_at).order_by(WorkerHeartbeat.beat_at, ascending=False).first()
    return as_utc(row["beat_at"]) if row else None


async def alive(max_age: timedelta) -> int:
    """How many workers stamped within `max_age`."""
    return await WorkerHeartbeat.count().where(WorkerHeartbeat.beat_at >= now() - max_age)
