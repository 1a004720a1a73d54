"""Durable retries: work kept as rows that carry their own next attempt (e-mails, payouts, webhook
deliveries), claimed with a conditional update so that two workers never take the same row, retried
with exponential backoff, and given up with its reason after the last attempt.

A table takes part with a status column and the columns `attempts`, `next_attempt_at`,
`claimed_until` and `last_error`. Any error while working on one row is that row's error: it is
rescheduled with the reason and the round goes on with the next row, so one row that can never
succeed (a "poison" message) neither stops nor delays the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from marketplace.core.clock import now

log = logging.getLogger("marketplace.retries")


class AttemptFailed(Exception):
    """Raised by an attempt with the reason to record as it is (e.g. "HTTP 503: ...")."""


@dataclass(frozen=True)
class Backoff:
    """`first`, then twice as long after each failed attempt, never more than `cap`."""

    first: timedelta
    cap: timedelta

    def after(self, attempts: int) -> timedelta:
        return min(self.first * 2 ** min(max(attempts - 1, 0), 30), self.cap)


@dataclass(frozen=True)
class RetryQueue:
    """The rows of `table` whose `status` is one of `ready` and whose `next_attempt_at` has passed.

    `working`: the status while claimed (None keeps the status as it is); a claim left behind by a
    crashed worker expires after `claim_for`. `retry`: the status of a row to try again (default the
    first of `ready`). `max_attempts`: None retries for ever; otherwise the row becomes `failed`.
    """

    table: type[Table]
    status: Column
    ready: tuple[str, ...]
    failed: str
    backoff: Backoff
    claim_for: timedelta
    working: str | None = None
    retry: str | None = None
    max_attempts: int | None = None
    order_by: Column | None = None
    extra_due: Any = field(default=None)  # a further Piccolo condition on due rows

    def due(self, moment: datetime) -> Any:
        t = self.table
        unclaimed = t.claimed_until.is_null() | (t.claimed_until < moment)  # type: ignore[attr-defined]
        condition = self.status.is_in(list(self.ready)) & (t.next_attempt_at <= moment) & unclaimed  # type: ignore[attr-defined]
        if self.working is not None:
            condition = condition | ((self.status == self.working) & (t.claimed_until < moment))  # type: ignore[attr-defined]
        return condition & self.extra_due if self.extra_due is not None else condition

    async def claim(self, row_id: object) -> dict[str, Any] | None:
        """Take one due row (its attempt counted now, so a crash mid-attempt counts too); None if another worker has it."""
        t = self.table
        moment = now()
        values: dict[Any, Any] = {t.claimed_until: moment + self.claim_for, t.attempts: t.attempts + 1}  # type: ignore[attr-defined]
        if self.working is not None:
            values[self.status] = self.working
        claimed = await t.update(values).where((t._meta.primary_key == row_id) & self.due(moment)).returning(*t.all_columns())
        return claimed[0] if claimed else None

    async def reschedule(self, row: dict[str, Any], error: str, values: dict[Any, Any] | None = None) -> str:
        """This attempt failed: try again after the backoff, or give up after the last attempt. Returns the new status."""
        t = self.table
        give_up = self.max_attempts is not None and row["attempts"] >= self.max_attempts
        status = self.failed if give_up else (self.retry or self.ready[0])
        await t.update({
            self.status: status,
            t.last_error: error[:2000],  # type: ignore[attr-defined]
            t.next_attempt_at: now() + self.backoff.after(row["attempts"]),  # type: ignore[attr-defined]
            t.claimed_until: None,  # type: ignore[attr-defined]
            **(values or {}),
        }).where((t._meta.primary_key == row[t._meta.primary_key._meta.name]) & self.status.is_in(self._open()))
        return status

    def _open(self) -> list[str]:
        """The statuses of a row not yet done: a row the webhook or another path finished meanwhile stays finished."""
        return [*self.ready, *([self.working] if self.working else []), *([self.retry] if self.retry else [])]

    async def run(self, attempt: Callable[[dict[str, Any]], Awaitable[bool]], limit: int = 50) -> int:
        """One round: claim each due row and attempt it; returns how many attempts succeeded.

        `attempt(row)` returns True when the work is done (and records that itself), False when it
        has already rescheduled the row; any exception reschedules the row with the error as reason.
        """
        t = self.table
        key = t._meta.primary_key
        due = await t.select(key).where(self.due(now())).order_by(self.order_by or t.next_attempt_at).limit(limit)  # type: ignore[attr-defined]
        done = 0
        for found in due:
            row = await self.claim(found[key._meta.name])
            if row is None:
                continue
            if self.max_attempts is not None and row["attempts"] > self.max_attempts:  # its worker died every time
                await self.reschedule(row, row["last_error"] or "Gave up: the worker stopped during every attempt.")
                continue
            try:
                done += bool(await attempt(row))
            except Exception as exc:  # noqa: BLE001 - one row's error is that row's, never the round's
                reason = str(exc) if isinstance(exc, AttemptFailed) else f"{type(exc).__name__}: {exc}"
                status = await self.reschedule(row, reason)
                log.warning("%s %s: attempt %d failed (%s): %s", t._meta.tablename, row[key._meta.name], row["attempts"],
                            status, exc)
        return done
