"""What an operator meets: HEAD answered wherever GET is, a worker that stops cleanly and waits for
migrations with one message, one clear line when the database cannot be used, `migrate` saying what it
applied, a missing subcommand named as the user types it, and a 409 in the caller's language."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from marketplace import cli, worker
from marketplace.core import db
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_open_challenge, stage_row

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", ["/", "/healthz", "/challenges", "/api/v1/challenges", "/schema/openapi.json"])
async def test_head_is_answered_wherever_get_is(client, path):
    get = await client.get(path)
    head = await client.head(path)
    assert (get.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_the_worker_stops_cleanly_on_sigterm_and_ctrl_c(sig, caplog, monkeypatch):
    rounds = []
    started = asyncio.Event()

    async def one_round(jobs=None):
        rounds.append(1)
        started.set()
        await asyncio.sleep(0.05)  # work under way when the signal comes: it finishes
        rounds.append(2)
        return {}

    monkeypatch.setattr(worker, "run_once", one_round)
    caplog.set_level(logging.INFO, logger="marketplace.worker")
    task = asyncio.create_task(cli._work_until_signalled(0.01))
    await started.wait()
    os.kill(os.getpid(), sig)
    await asyncio.wait_for(task, timeout=10)
    assert rounds[-1] == 2, "the round under way was finished"
    messages = [r.getMessage() for r in caplog.records if r.name == "marketplace.worker"]
    assert f"{sig.name} received: stopping after the current round" in messages
    assert messages[-1] == "worker stopped"
    assert asyncio.get_running_loop().remove_signal_handler(sig) is False, "the worker's handler is gone again"


async def test_a_worker_on_an_unmigrated_database_says_so_once_then_waits(caplog, monkeypatch):
    answers = [["accounts:1", "mail:2"]] * 5 + [[]]

    async def pending():
        return answers.pop(0)

    monkeypatch.setattr(db, "pending_migrations", pending)
    caplog.set_level(logging.INFO, logger="marketplace.worker")
    assert await worker.wait_for_migrations(0.01, asyncio.Event()) is True
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["the database has 2 pending migrations (first: accounts:1): run `marketplace migrate`; "
                        "the worker waits and checks again every 0 s"]
    assert not answers


def _marketplace(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "text"}
    return subprocess.run([sys.executable, "-m", "marketplace", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


@pytest.mark.parametrize(("url", "says"), [
    ("notaurl", "DATABASE_URL must look like sqlite:///path/to/file.sqlite3 or postgresql://user@host/db, got 'notaurl'"),
    ("postgresql://app:s3cret@127.0.0.1:1/marketplace",
     "cannot use the database at postgresql://app@127.0.0.1:1/marketplace: the database server cannot be reached"),
    ("sqlite:////proc/marketplace.sqlite3", "cannot use the database at sqlite:////proc/marketplace.sqlite3: the SQLite file"),
])
def test_a_database_that_cannot_be_used_is_one_clear_line_without_the_password(url, says):
    result = _marketplace("migrate", url=url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {says}"), result.stderr
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_migrate_says_what_it_applied(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    first = _marketplace("migrate", url=url)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    count = len(lines) - 1
    assert lines[0] == f"Applied {count} migrations to {url}:" and count >= 20
    assert "  accounts:" in first.stdout and "  mail:" in first.stdout
    again = _marketplace("migrate", url=url)
    assert again.stdout.strip() == f"Database {url} is up to date: no migration to apply."


@pytest.mark.parametrize(("argv", "needed"), [([], "COMMAND"), (["audit"], "verify"), (["search"], "rebuild")])
def test_a_missing_subcommand_is_named_as_typed(argv, needed, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"the following arguments are required: {needed}" in err
    assert "_command" not in err


async def test_the_sealed_ranking_409_is_in_the_callers_language_with_a_readable_time(client):
    start = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        buyer = await make_org("public_body")
        challenge = await make_open_challenge(buyer, start=start)
        closes = (await stage_row(challenge, "expression_of_interest"))["closes_at"]
        servant = await make_user("civil_servant", org=buyer, locale="fr")
        url = f"/api/v1/challenges/{challenge.id}/ranking?stage=expression_of_interest"
        french = await client.get(url, headers=await token_for(servant))
        dutch = await client.get(url, headers={**await token_for(servant), "Accept-Language": "nl-BE,nl;q=0.9"})
    assert (french.status_code, dutch.status_code) == (409, 409)
    local = closes.astimezone(ZoneInfo("Europe/Brussels"))
    assert french.json()["detail"].startswith("Les propositions restent scellées jusqu'à l'échéance de cette étape, ")
    assert dutch.json()["detail"].startswith("Voorstellen blijven verzegeld")
    for detail in (french.json()["detail"], dutch.json()["detail"]):
        assert str(local.year) in detail and local.strftime("%H:%M") in detail
        assert not re.search(r"\d{4}-\d{2}-\d{2}T|\d:\d{2}:\d{2}|Z\b", detail), detail  # no ISO time, no seconds
