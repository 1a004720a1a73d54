"""What an operator watches: `/readyz` (database, migrations, worker heartbeat), `/metrics` for Prometheus
(request latency and statuses by route template, outbox, payouts, scheduler lag, heartbeat), who may ask for
them, and the request id that ties a problem+json answer to its log lines."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta

import httpx
import pytest
import time_machine
from piccolo.apps.migrations.tables import Migration
from prometheus_client.parser import text_string_to_metric_families

from marketplace import worker
from marketplace.core.clock import now
from marketplace.core.logs import configure_logging
from marketplace.mail.services import enqueue_mail
from marketplace.mail.tables import OutboxMessage
from marketplace.operations import heartbeat, readiness
from marketplace.operations.tables import WorkerHeartbeat
from tests.factories import make_user, signed_in_client, token_for
from tests.factories_payments import deliver, make_experiment, route_payments_to
from tests.factories_proposals import make_open_challenge, stage_row


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
async def remote_client(app):
    """A client on another host (what a request through the reverse proxy from the internet looks like)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_ready_when_migrated_and_a_worker_reported_recently(client):
    await heartbeat.beat("host-a:1")
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {"database": True, "migrations": True, "worker": True}
    assert body["checks"]["worker"]["alive"] == 1
    head = await client.head("/readyz")
    assert head.status_code == 200 and head.content == b""


async def test_not_ready_while_no_worker_ever_reported(client):
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["worker"]
    assert "no worker has ever reported" in problem["detail"]
    assert problem["checks"]["database"]["ok"] and problem["checks"]["migrations"]["ok"]


async def test_not_ready_once_the_worker_heartbeat_is_older_than_a_minute(client):
    start = now()
    with time_machine.travel(start, tick=False):
        await heartbeat.beat("host-a:1")
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        assert (await client.get("/readyz")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        response = await client.get("/readyz")
    assert response.status_code == 503
    problem = response.json()
    assert problem["errors"] == [{"field": "worker", "message": "last heartbeat 300 s ago (at most 60 s)"}]
    assert problem["checks"]["worker"]["heartbeat_age_seconds"] == 300.0 and problem["checks"]["worker"]["alive"] == 0


async def test_not_ready_on_a_database_with_a_pending_migration(client, monkeypatch):
    await heartbeat.beat("host-a:1")
    monkeypatch.setitem(readiness._migrated, "yes", False)
    last = await Migration.select().order_by(Migration.id, ascending=False).first()
    await Migration.delete().where(Migration.id == last["id"])  # as if the newest migration were not applied yet
    try:
        response = await client.get("/readyz")
    finally:
        await Migration.insert(Migration(**{k: v for k, v in last.items() if k != "id"}))
    assert response.status_code == 503
    problem = response.json()
    assert problem["errors"] == [{"field": "migrations", "message": "1 pending: run `marketplace migrate`"}]
    assert "worker" not in problem["checks"]  # not asked of a database whose tables may not exist yet
    assert (await client.get("/readyz")).status_code == 200


async def test_the_worker_reports_its_heartbeat_as_it_goes_round(monkeypatch):
    monkeypatch.setitem(heartbeat._last, "at", float("-inf"))
    stop = asyncio.Event()

    async def one_job() -> int:
        stop.set()
        return 0

    await asyncio.wait_for(worker.run_forever(0.01, stop, jobs=[one_job]), timeout=10)
    [row] = await WorkerHeartbeat.select()
    assert row["worker"] == heartbeat.worker_name()
    assert abs((now() - row["beat_at"]).total_seconds()) < 5


async def test_operators_only_loopback_or_the_token(client, remote_client, override_settings):
    for path in ("/metrics", "/readyz"):
        refused = await remote_client.get(path)
        assert refused.status_code == 403, path
        assert "MARKETPLACE_METRICS_TOKEN" in refused.json()["detail"]
    assert (await client.get("/metrics")).status_code == 200  # from the host itself
    override_settings(metrics_token="s3cret-operators-token")
    assert (await remote_client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
    allowed = await remote_client.get("/metrics", headers={"Authorization": "Bearer s3cret-operators-token"})
    assert allowed.status_code == 200 and allowed.headers["content-type"].startswith("text/plain")
    assert (await remote_client.get("/readyz", headers={"Authorization": "Bearer s3cret-operators-token"})).status_code == 503


async def test_metrics_count_requests_by_route_template_and_status(client):
    challenge = await make_open_challenge()
    before = samples((await client.get("/metrics")).text)
    for _ in range(3):
        assert (await client.get(f"/api/v1/challenges/{challenge.id}")).status_code == 200
    missing = "00000000-0000-0000-0000-000000000001"
    assert (await client.get(f"/api/v1/challenges/{missing}")).status_code == 404
    assert (await client.head("/healthz")).status_code == 200
    assert (await client.get("/no/such/page")).status_code == 404

    text = (await client.get("/metrics")).text
    after = samples(text)
    route = next(labels for name, labels in after if name == "marketplace_http_responses_total"
                 and ("route", "/api/v1/challenges/{challenge_id}") in labels or False)
    assert route

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    item = "/api/v1/challenges/{challenge_id}"
    assert grew("marketplace_http_responses_total", method="GET", route=item, status="200") == 3
    assert grew("marketplace_http_responses_total", method="GET", route=item, status="404") == 1
    assert grew("marketplace_http_request_duration_seconds_count", method="GET", route=item) == 4
    assert grew("marketplace_http_request_duration_seconds_bucket", method="GET", route=item, le="+Inf") == 4
    assert grew("marketplace_http_request_duration_seconds_sum", method="GET", route=item) > 0
    assert grew("marketplace_http_responses_total", method="HEAD", route="/healthz", status="200") == 1
    assert grew("marketplace_http_responses_total", method="GET", route="(unmatched)", status="404") == 1
    assert str(challenge.id) not in text and missing not in text and "/no/such/page" not in text  # templates, never raw paths


async def test_metrics_read_the_outbox_payouts_scheduler_and_heartbeat_from_the_database(client, app):
    route_payments_to(app)
    start = now()
    with time_machine.travel(start - timedelta(minutes=10), tick=False):
        await enqueue_mail("ann@example.be", "welcome", name="Ann", organisation="Acme")
        await heartbeat.beat("host-a:1")
        challenge = await make_open_challenge()
    await enqueue_mail("bob@example.be", "welcome", name="Bob", organisation="Acme")
    await OutboxMessage.insert(OutboxMessage(to_address="gone@example.be", subject="x", body_text="x", status="failed"))
    experiment_id, _servant, officer, founder = await make_experiment()
    company, buyer = await token_for(founder), await token_for(officer)
    milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).json()["milestones"][0]["id"]
    await deliver(client, milestone, company)
    accepted = await client.post(f"/api/v1/milestones/{milestone}/review", headers=buyer, json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    late = (await stage_row(challenge, challenge.current_stage))["closes_at"] + timedelta(hours=1)
    with time_machine.travel(late, tick=False):
        got = samples((await client.get("/metrics")).text)
        moment = now()
    waiting = await OutboxMessage.count().where(OutboxMessage.status == "pending")  # Ann's, Bob's and the milestone's notices
    assert waiting >= 3 and got[("marketplace_outbox_backlog_messages", ())] == waiting
    assert got[("marketplace_outbox_failed_messages", ())] == 1
    assert got[("marketplace_outbox_oldest_message_age_seconds", ())] == pytest.approx(
        (moment - start + timedelta(minutes=10)).total_seconds(), abs=5)
    assert got[("marketplace_payouts", (("status", "pending"),))] == 1
    assert got[("marketplace_payouts", (("status", "paid"),))] == 0
    assert got[("marketplace_payout_oldest_unpaid_age_seconds", ())] == pytest.approx((moment - start).total_seconds(), abs=60)
    assert got[("marketplace_scheduler_lag_seconds", ())] == pytest.approx(3600, abs=1)  # the worker did not close it
    assert got[("marketplace_worker_heartbeat_age_seconds", ())] >= 3600
    assert got[("marketplace_workers_alive", ())] == 0


async def test_the_heartbeat_age_is_infinite_before_any_worker_reported(client):
    got = samples((await client.get("/metrics")).text)
    assert got[("marketplace_worker_heartbeat_age_seconds", ())] == float("inf")
    assert got[("marketplace_scheduler_lag_seconds", ())] == 0


@pytest.fixture
def log_lines(settings):
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    configure_logging(settings.log_level, settings.log_format)


async def test_a_problem_names_its_request_id_as_the_log_lines_do(client, log_lines):
    response = await client.get("/api/v1/challenges/00000000-0000-0000-0000-000000000001")
    assert response.status_code == 404
    rid = response.headers["x-request-id"]
    assert response.json()["request_id"] == rid
    [line] = [line for line in log_lines() if line["logger"] == "marketplace.request"]
    assert line["request_id"] == rid and line["status"] == 404
    kept = await client.get("/api/v1/me", headers={"X-Request-ID": "edge-7.abc"})
    assert kept.status_code == 401 and kept.json()["request_id"] == "edge-7.abc"


async def test_a_database_that_cannot_be_reached_is_a_503_to_try_again_not_a_500(client, monkeypatch, log_lines):
    from marketplace.core import auth

    user = await make_user("company_member")
    api = await token_for(user)
    pages = await signed_in_client(client, user)

    async def refused(*_args, **_kwargs):
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    monkeypatch.setattr(auth, "principal_from_token", refused)  # before routing, outside Litestar's handlers
    monkeypatch.setattr(auth, "principal_from_session", refused)
    answer = await client.get("/api/v1/me", headers=api)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"].startswith("The service cannot reach its database")
    assert answer.json()["request_id"] == answer.headers["x-request-id"]
    page = await pages.get("/proposals", headers={"Accept-Language": "fr"})
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "ne peut pas joindre sa base de données" in page.text  # in the reader's language
    monkeypatch.undo()

    from marketplace.challenges import catalogue

    monkeypatch.setattr(catalogue, "search", refused)  # inside a handler
    listed = await client.get("/api/v1/challenges")
    assert listed.status_code == 503 and listed.json()["status"] == 503
    lines = log_lines()
    assert [line["status"] for line in lines if line["logger"] == "marketplace.request"][-3:] == [503, 503, 503]
    assert not [line for line in lines if "exception" in line], "one warning line each, no traceback as for a bug"
    assert len([line for line in lines if line["level"] == "warning" and "database unavailable" in line["message"]]) == 3


async def test_a_worker_started_before_the_database_says_so_once_then_waits(caplog, monkeypatch):
    import logging

    from marketplace.core import db

    answers: list = [ConnectionRefusedError(111, "Connect call failed")] * 3 + [[]]

    async def pending():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(db, "pending_migrations", pending)
    caplog.set_level(logging.INFO, logger="marketplace.worker")
    assert await worker.wait_for_migrations(0.01, asyncio.Event()) is True
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("the database cannot be reached")
    assert not answers
