"""Prometheus metrics: per request (latency by route template, responses by status), counted in each server
process, and what the database says at scrape time (outbox backlog, payouts by status, scheduler lag, worker
heartbeat), read with a few cheap queries when `/metrics` is asked.

Several server processes (`marketplace serve --workers N`) each count their own requests: `serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh folder so that every process writes its counts there and any of them
answers a scrape with the sum (prometheus_client's multiprocess mode). Without that variable, the counts are
the answering process's own (one process: all of them).

On the request path: two clock reads, one dictionary lookup and two increments (no await, no lock held
across an await, nothing shared between processes but the process's own memory-mapped file)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from marketplace.core.clock import as_utc, now

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS = bool(getattr(values.ValueClass, "_multiprocess", False))
"""Decided by prometheus_client when first imported: `PROMETHEUS_MULTIPROC_DIR` was set then (see multiprocess.py)."""
UNMATCHED = "(unmatched)"  # a path no route answers (404, 405): never the raw path, whose values are unbounded

REQUEST_SECONDS = Histogram(
    "marketplace_http_request_duration_seconds", "Time to answer a request, by method and route template.",
    ["method", "route"], registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
RESPONSES = Counter(
    "marketplace_http_responses", "Responses sent, by method, route template and status code.",
    ["method", "route", "status"], registry=None)

_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (the labelled children are looked up once per method, route and status)."""
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (REQUEST_SECONDS.labels(method, route), RESPONSES.labels(method, route, str(status)))
    children[0].observe(seconds)
    children[1].inc()


class RequestMetricsMiddleware(ASGIMiddleware):
    """Times every request and counts its status under the route template Litestar matched (`/api/v1/challenges/{id}`)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500  # no response started: the server answers 500 (or the client went away)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_status)
        finally:
            observe(scope.get("method", ""), scope.get("path_template") or UNMATCHED, status, time.perf_counter() - started)


class _RequestMetrics:
    """This process's request metrics (without multiprocess mode)."""

    def collect(self) -> Iterator[Any]:
        yield from REQUEST_SECONDS.collect()
        yield from RESPONSES.collect()


class _Snapshot:
    """Gauges read from the database just before the scrape is rendered."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self.families


def _age(moment: Any) -> float:
    return max(0.0, (now() - as_utc(moment)).total_seconds()) if moment is not None else 0.0


async def database_gauges() -> list[GaugeMetricFamily]:
    """Outbox, payouts, scheduler and worker, each from one or two small indexed queries."""
    from marketplace.challenges.tables import Challenge, ChallengeStage
    from marketplace.mail.tables import OutboxMessage
    from marketplace.operations import heartbeat
    from marketplace.payments.tables import Payout
    from marketplace.settings import get_settings

    families: list[GaugeMetricFamily] = []
    waiting = (OutboxMessage.Status.pending, OutboxMessage.Status.sending)
    backlog = await OutboxMessage.count().where(OutboxMessage.status.is_in(list(waiting)))
    oldest = await OutboxMessage.select(OutboxMessage.created_at).where(OutboxMessage.status.is_in(list(waiting))).order_by(
        OutboxMessage.created_at).first()
    failed = await OutboxMessage.count().where(OutboxMessage.status == OutboxMessage.Status.failed)
    families += [
        GaugeMetricFamily("marketplace_outbox_backlog_messages", "E-mails waiting to be sent (pending or being sent).", value=backlog),
        GaugeMetricFamily("marketplace_outbox_oldest_message_age_seconds",
                          "Age of the oldest e-mail still waiting to be sent (0 when none waits).",
                          value=_age(oldest["created_at"] if oldest else None)),
        GaugeMetricFamily("marketplace_outbox_failed_messages", "E-mails given up after the last retry (an admin may resend them).",
                          value=failed),
    ]

    by_status = GaugeMetricFamily("marketplace_payouts", "Payouts by status.", labels=["status"])
    for status in Payout.Status:
        by_status.add_metric([status.value], await Payout.count().where(Payout.status == status.value))
    unpaid = await Payout.select(Payout.accepted_at).where(
        Payout.status.is_in([Payout.Status.pending, Payout.Status.waiting])).order_by(Payout.accepted_at).first()
    families += [by_status, GaugeMetricFamily(
        "marketplace_payout_oldest_unpaid_age_seconds", "Time since the acceptance of the oldest payout not yet paid (0 when none).",
        value=_age(unpaid["accepted_at"] if unpaid else None))]

    overdue = await ChallengeStage.select(ChallengeStage.closes_at).where(
        (ChallengeStage.status == ChallengeStage.Status.open) & (ChallengeStage.closes_at <= now())
        & (ChallengeStage.challenge.status == Challenge.Status.published)).order_by(ChallengeStage.closes_at).first()
    families.append(GaugeMetricFamily(
        "marketplace_scheduler_lag_seconds",
        "How long past its deadline the oldest open submission stage still is (0 when the scheduler is on time; "
        "unanswered Q&A questions hold a stage open on purpose).",
        value=_age(overdue["closes_at"] if overdue else None)))

    max_age = get_settings().worker_heartbeat_max_age_seconds
    beat = await heartbeat.latest()
    families += [
        GaugeMetricFamily("marketplace_worker_heartbeat_age_seconds",
                          "Seconds since a background worker last reported (+Inf when none ever did).",
                          value=_age(beat) if beat is not None else float("inf")),
        GaugeMetricFamily("marketplace_workers_alive", f"Background workers that reported within {max_age} s.",
                          value=await heartbeat.alive(timedelta(seconds=max_age))),
    ]
    return families


async def scrape() -> bytes:
    """The text exposition of every metric: the request counts of every server process, then the database's."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(_RequestMetrics())  # type: ignore[arg-type]
    registry.register(_Snapshot(await database_gauges()))  # type: ignore[arg-type]
    return generate_latest(registry)
