"""The fault suite's "PostgreSQL restarted during requests" (issue #11): companies save and submit, buyers accept
milestones and the worker pays them while the database server restarts. Requests during the outage answer a
503 problem+json with Retry-After (never a 500, never a hang), the connection pool recovers without restarting
the app, and afterwards every acknowledged write is in the database and every payout was made exactly once.

A private PostgreSQL cluster is started for it (initdb and pg_ctl, in a temporary folder, on a free port): the
shared server of the suite is never restarted. Collected only in the PostgreSQL run (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import time_machine

from marketplace import worker
from marketplace.core import db
from marketplace.core.clock import now
from marketplace.payments import payouts
from marketplace.payments.tables import Payout
from marketplace.procedures import engine as procedures
from marketplace.proposals.tables import ProposalStage, ProposalStageVersion
from tests.factories import make_user, token_for
from tests.factories_payments import (
    deliver,
    make_experiment,
    onboard_company,
    route_payments_to,
    stripe,
    top_up,
)
from tests.factories_proposals import make_open_challenge, valid_answers

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
COMPANIES = 8
MILESTONES = 3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL server: as the `postgres` user when we are root (initdb refuses root)."""

    def __init__(self) -> None:
        self.bin = Path(BIN[-1])
        self.root = Path(tempfile.mkdtemp(prefix="marketplace-pg-fault-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self._run(*self._pg_ctl("start"))

    def _pg_ctl(self, action: str) -> list[str]:
        # -l: the server's output to its log file, not to our pipe (which it would hold open while we wait for it).
        # fsync off: a fast restart shuts down cleanly (a checkpoint), so acknowledged commits survive it anyway.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        return ["pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", action,
                *(["-o", options] if action in ("start", "restart") else []),
                *(["-m", "fast"] if action in ("stop", "restart") else [])]

    async def ctl(self, action: str) -> float:
        """`pg_ctl start|stop|restart` (stopping fast: sessions are ended, open transactions rolled back) without blocking the event loop (requests go on meanwhile); returns its seconds."""
        started = time.perf_counter()
        await asyncio.to_thread(self._run, *self._pg_ctl(action))
        return time.perf_counter() - started

    def remove(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
async def private_database() -> AsyncIterator[Cluster]:
    """The app's engine pointed at a private cluster for this test (migrated), then back at the suite's."""
    if not db.is_postgres():
        pytest.skip("a PostgreSQL restart: run with MARKETPLACE_TEST_DB=postgres (tests/conftest.py collects it only then)")
    if not BIN:
        pytest.skip("PostgreSQL's server programs (/usr/lib/postgresql/*/bin) are not installed")
    cluster = Cluster()
    await asyncio.to_thread(cluster.create)
    engine = db.engine()
    suite_config, suite_pool = engine.config, engine.pool
    engine.config, engine.pool = {"dsn": cluster.url}, None
    try:
        await db.open_pool()
        await db.migrate()
        yield cluster
    finally:
        if engine.pool is not None:
            engine.pool.terminate()  # a failed test may leave requests holding connections: do not wait for them
        engine.config, engine.pool = suite_config, suite_pool
        await asyncio.to_thread(cluster.remove)


class Answers:
    """Every answer the app gave, and what it acknowledged."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.unclear: list[str] = []

    async def until_done(self, send: Callable[[], Awaitable[httpx.Response]], what: str) -> httpx.Response:
        """Send until the app gives a final answer, waiting as a 503's Retry-After asks (shortened for the test)."""
        for _ in range(200):
            started = time.perf_counter()
            response = await asyncio.wait_for(send(), timeout=15)  # never a hang
            self.statuses[response.status_code] += 1
            if response.status_code != 503:
                return response
            if not (response.headers.get("content-type", "").startswith("application/problem+json")
                    and response.headers.get("retry-after") == "5" and time.perf_counter() - started < 10):
                self.unclear.append(f"{what}: {response.status_code} {response.headers} {response.text[:200]}")
            await asyncio.sleep(0.1)
        raise AssertionError(f"{what}: still 503 after 200 tries")


async def test_a_postgresql_restart_during_requests_loses_nothing_and_pays_once(private_database, client, app):
    cluster = private_database
    route_payments_to(app)
    challenge = await make_open_challenge()
    spec = procedures.latest("light").stage("expression_of_interest")
    companies = []
    for n in range(COMPANIES):
        user = await make_user("company_member")
        headers = await token_for(user)
        started = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=headers)
        assert started.status_code == 201, started.text
        companies.append((started.json()["id"], headers, {**valid_answers(spec), "idea": f"Idea number {n}, saved once."}))
    accepts = []
    for _ in range(MILESTONES):
        experiment_id, _servant, officer, founder = await make_experiment(milestones=1)
        company, buyer = await token_for(founder), await token_for(officer)
        await onboard_company(client, founder, company)
        milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).json()["milestones"][0]["id"]
        assert (await deliver(client, milestone, company)).status_code == 201
        accepts.append((milestone, buyer))
    await top_up(10_000_000)

    answers = Answers()
    saved: dict[str, dict] = {}
    submitted: dict[str, int] = {}  # proposal -> submit attempts that may have committed

    async def company_journey(pid: str, headers: dict, body: dict) -> None:
        for _ in range(3):  # save and submit, again and again, across the restart
            put = await answers.until_done(lambda: client.put(
                f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=headers, json={"answers": body}), f"save {pid}")
            assert put.status_code == 200, put.text
            saved[pid] = body
            tries = Counter()

            async def submit(tries: Counter = tries) -> httpx.Response:
                tries["n"] += 1
                return await client.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=headers)

            done = await answers.until_done(submit, f"submit {pid}")
            assert done.status_code in (200, 409), done.text  # 409: an earlier try committed though its answer was lost
            submitted[pid] = submitted.get(pid, 0) + tries["n"]
            await asyncio.sleep(0.05)

    async def buyer_journey(milestone: str, headers: dict) -> None:
        await asyncio.sleep(0.2)
        done = await answers.until_done(lambda: client.post(
            f"/api/v1/milestones/{milestone}/review", headers=headers, json={"decision": "accept"}), f"accept {milestone}")
        assert done.status_code in (200, 409), done.text

    stop_worker = asyncio.Event()
    worker_task = asyncio.create_task(worker.run_forever(0.05, stop_worker, jobs=[payouts.execute_due_payouts]))

    async def restart() -> float:
        await asyncio.sleep(0.3)  # in the middle of the saves, submissions and accepts
        return await cluster.ctl("restart")

    journeys = [company_journey(*c) for c in companies] + [buyer_journey(*a) for a in accepts]
    tasks = [asyncio.ensure_future(j) for j in (restart(), *journeys)]
    try:
        restart_seconds, *_ = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert answers.unclear == [], "every 503 is problem+json with Retry-After, answered at once"
    assert answers.statuses[500] == 0 and set(answers.statuses) <= {200, 409, 503}, answers.statuses
    print(f"\nrestart took {restart_seconds:.2f} s; answers: {dict(answers.statuses)}")

    # The database stopped: a 503 at once, /readyz names the database; started again: answered, same app, same pool.
    await cluster.ctl("stop")
    pid, headers, body = companies[0]
    started = time.perf_counter()
    down = await client.get(f"/api/v1/proposals/{pid}", headers=headers)
    assert down.status_code == 503 and down.headers["retry-after"] == "5", down.text
    assert time.perf_counter() - started < 10  # refused at once, not after a connect timeout (60 s)
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and [e["field"] for e in ready.json()["errors"]] == ["database"]
    page = await client.get("/challenges")
    assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    await cluster.ctl("start")
    assert (await client.get(f"/api/v1/proposals/{pid}", headers=headers)).status_code == 200

    # Nothing acknowledged was lost: every company's last saved answers were submitted.
    for pid, _headers, _body in companies:
        stage = await ProposalStage.select().where(
            (ProposalStage.proposal == pid) & (ProposalStage.stage == "expression_of_interest")).first()
        versions = await ProposalStageVersion.select().where(ProposalStageVersion.proposal_stage == stage["id"])
        assert stage["status"] == "submitted" and json.loads(stage["answers"]) == saved[pid], pid
        assert 1 <= len(versions) <= submitted[pid], (pid, len(versions), submitted[pid])

    # The same worker, which went on through the restart, pays every accepted milestone exactly once, whatever it
    # was doing when the server went away (a claim it lost is taken again once it lapses: an hour on).
    with time_machine.travel(now() + payouts.CLAIM + timedelta(hours=1)):
        for _ in range(200):
            if not await Payout.count().where(Payout.status.is_in(["pending", "waiting"])):
                break
            await asyncio.sleep(0.05)
        stop_worker.set()
        await asyncio.wait_for(worker_task, timeout=10)
    rows = await Payout.select()
    assert sorted(str(r["milestone"]) for r in rows) == sorted(m for m, _ in accepts)
    assert {r["status"] for r in rows} == {"paid"}, [(r["status"], r["status_reason"], r["last_error"]) for r in rows]
    transfers = (await stripe().v1.transfers.list_async({"limit": 100})).data
    assert sorted(t.metadata["milestone_id"] for t in transfers) == sorted(m for m, _ in accepts)
    assert {r["stripe_transfer_id"] for r in rows} == {t.id for t in transfers}


async def test_a_transaction_whose_connection_the_server_ends_gives_it_back_to_the_pool():
    """Piccolo's own transaction raised from its rollback before resetting the task's current transaction: a worker
    whose transaction met a restart ran every later query in that dead transaction. More transactions end so than
    the pool has connections: each one went back."""
    import asyncpg

    from marketplace.operations.tables import WorkerHeartbeat

    engine = db.engine()
    for _ in range(engine.pool.get_max_size() + 2):
        with pytest.raises(Exception) as ended:  # noqa: B017 - which asyncpg error depends on timing; checked below
            async with db.transaction():
                [row] = await WorkerHeartbeat.raw("SELECT pg_backend_pid() AS pid")
                admin = await asyncpg.connect(engine.config["dsn"])
                try:
                    await admin.execute("SELECT pg_terminate_backend($1)", row["pid"])
                finally:
                    await admin.close()
                await WorkerHeartbeat.raw("SELECT 1")
        assert db.is_unavailable(ended.value), repr(ended.value)  # a 503 to try again, not a 500
        assert engine.current_transaction.get() is None
    async with db.transaction():  # the pool still has connections to give
        assert await asyncio.wait_for(WorkerHeartbeat.count(), timeout=10) == 0
