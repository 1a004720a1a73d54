"""The background worker: e-mail now, deadlines and payouts as domains add their `jobs.py`.

It runs inside `marketplace serve` by default, or alone as `marketplace worker`. Every job claims
its rows with a conditional update (or row locks on PostgreSQL), so several workers never do the
same work twice.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger("marketplace.worker")

Job = Callable[[], Awaitable[int]]


def discover_jobs() -> list[Job]:
    """Every `marketplace/<domain>/jobs.py` exports `JOBS`, a list of coroutines returning a count."""
    jobs: list[Job] = []
    for path in sorted(Path(__file__).resolve().parent.glob("*/jobs.py")):
        module = importlib.import_module(f"marketplace.{path.parent.name}.jobs")
        jobs.extend(module.JOBS)
    return jobs


async def run_once(jobs: list[Job] | None = None) -> dict[str, int]:
    """One round of every job; a failing job is logged and does not stop the others."""
    done: dict[str, int] = {}
    for job in jobs if jobs is not None else discover_jobs():
        name = f"{job.__module__}.{job.__name__}"
        try:
            done[name] = await job()
        except Exception as exc:  # noqa: BLE001 - the worker must outlive one job's bug
            from marketplace.core.db import is_unavailable

            if is_unavailable(exc):  # a database restart: one line per job, the next round tries again
                log.warning("background job %s: the database cannot be reached (%r)", name, exc)
            else:
                log.exception("background job %s failed", name)
            done[name] = -1
    return done


async def wait_for_migrations(interval: float, stop: asyncio.Event) -> bool:
    """Say once that the database is not migrated, then wait until it is (or until stopped). True when ready."""
    from marketplace.core import db

    told = unreachable = False
    while not stop.is_set():
        try:
            pending = await db.pending_migrations()
        except Exception as exc:
            if not db.is_unavailable(exc):
                raise
            if not unreachable:  # starting before the database (a reboot): say it once, then wait for it
                log.warning("the database cannot be reached (%r): the worker waits and tries again every %.0f s", exc, interval)
                unreachable = True
            pending = ["(database unreachable)"]
        else:
            unreachable = False
        if not pending:
            if told:
                log.info("migrations are applied: the worker starts")
            return True
        if not told and not unreachable:
            log.warning("the database has %d pending migrations (first: %s): run `marketplace migrate`; "
                        "the worker waits and checks again every %.0f s", len(pending), pending[0], interval)
            told = True
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
    return False


async def run_forever(interval: float, stop: asyncio.Event | None = None, jobs: list[Job] | None = None) -> None:
    """Rounds of every job until `stop` (a round under way is finished first, so claimed work is done). After a
    round that did something the next starts at once (a backlog of payouts or mail drains at full speed, not one
    batch per interval); only an idle round waits `interval`."""
    jobs = discover_jobs() if jobs is None else jobs
    stop = stop or asyncio.Event()
    if not await wait_for_migrations(max(interval, 5.0), stop):
        return
    log.info("worker started with %d jobs, every %.1f s when idle", len(jobs), interval)
    from marketplace.operations.heartbeat import beat_if_due

    while not stop.is_set():
        await beat_if_due()  # /readyz and /metrics read it: this worker goes round
        done = await run_once(jobs)
        if any(count > 0 for count in done.values()):
            await asyncio.sleep(0)  # let the web requests of this process in between
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
    log.info("worker stopped")
