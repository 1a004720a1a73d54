"""Deadlines (submissions, questions, objections) are decided where the change is written: inside its
transaction, by the database's clock, as the last write, so that a submission committed after
`closes_at` is refused and none is stamped before the moment it was accepted. Frozen-clock tests make the database's clock follow the
app's clock (conftest); the last test runs on the real clocks of both databases."""

import asyncio
import contextlib
import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import time_machine

from marketplace.core import clock as clock_module
from marketplace.core import db
from marketplace.core.clock import as_utc, now
from marketplace.procedures import engine
from marketplace.proposals.tables import ProposalStage, ProposalStageVersion
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_open_challenge, stage_row, valid_answers

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
EOI = engine.latest("light").stage("expression_of_interest")


async def ready_to_submit(client, start=T0):
    """A company's proposal with valid answers saved at the first stage; returns (challenge, pid, headers)."""
    challenge = await make_open_challenge(await make_org("public_body"), start=start)
    headers = await token_for(await make_user("company_member"))
    pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=headers)).json()["id"]
    saved = await client.put(f"/api/v1/proposals/{pid}/stages/{EOI.key}", headers=headers, json={"answers": valid_answers(EOI)})
    assert saved.status_code == 200, saved.text
    return challenge, pid, headers


def submit(client, pid, headers):
    return client.post(f"/api/v1/proposals/{pid}/stages/{EOI.key}/submit", headers=headers)


async def stored(pid) -> list:
    """Every submitted version of the proposal's first stage: (version, submitted_at)."""
    rows = await ProposalStageVersion.select(ProposalStageVersion.version, ProposalStageVersion.submitted_at).where(
        ProposalStageVersion.proposal_stage.proposal == pid).order_by(ProposalStageVersion.version)
    return [(r["version"], as_utc(r["submitted_at"])) for r in rows]


@contextlib.asynccontextmanager
async def write_lock_held_elsewhere(pid):
    """Another transaction holds the lock a submission needs: SQLite's write lock, or on PostgreSQL
    the row of the proposal's stage."""
    if db.is_postgres():
        import asyncpg

        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        tx = conn.transaction()
        await tx.start()
        await conn.execute("SELECT 1 FROM proposal_stage WHERE proposal = $1 FOR UPDATE", uuid.UUID(pid))
        try:
            yield
        finally:
            await tx.rollback()
            await conn.close()
    else:
        path = db.engine().path
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()


async def test_a_submission_that_waited_on_a_write_lock_across_the_deadline_is_refused(client):
    with time_machine.travel(T0, tick=False) as clock:
        challenge, pid, headers = await ready_to_submit(client)
        closes = as_utc((await stage_row(challenge, EOI.key))["closes_at"])
        clock.move_to(closes - timedelta(seconds=1))
        async with write_lock_held_elsewhere(pid):
            waiting = asyncio.create_task(submit(client, pid, headers))
            await asyncio.sleep(0.5)  # the request is now waiting for the lock
            assert not waiting.done()
            clock.move_to(closes + timedelta(seconds=1))
        refused = await waiting
        assert refused.status_code == 409, refused.text
        assert refused.json()["errors"][0]["field"] == "stage"
        assert await stored(pid) == [], "nothing is stamped before the moment it was written"
        copy = await ProposalStage.select().where(ProposalStage.proposal == pid).first()
        assert copy["version"] == 0 and copy["submitted_at"] is None


async def test_a_submission_still_running_at_the_deadline_is_not_stored_after_it(client, monkeypatch):
    """A slow request passes the early check before the deadline and reaches its write after it."""
    with time_machine.travel(T0, tick=False) as clock:
        challenge, pid, headers = await ready_to_submit(client)
        closes = as_utc((await stage_row(challenge, EOI.key))["closes_at"])
        clock.move_to(closes - timedelta(milliseconds=50))
        from marketplace.proposals import attachments

        real = attachments.missing_required

        async def slow_check(*args, **kwargs):
            clock.move_to(closes + timedelta(milliseconds=140))
            return await real(*args, **kwargs)

        monkeypatch.setattr(attachments, "missing_required", slow_check)
        late = await submit(client, pid, headers)
        assert late.status_code == 409, late.text
        assert await stored(pid) == []


async def test_concurrent_resubmissions_around_the_deadline_are_each_in_time_or_refused(client):
    with time_machine.travel(T0, tick=False) as clock:
        challenge, pid, headers = await ready_to_submit(client)
        closes = as_utc((await stage_row(challenge, EOI.key))["closes_at"])
        clock.move_to(closes - timedelta(minutes=1))
        assert (await submit(client, pid, headers)).status_code == 200
        clock.move_to(closes - timedelta(milliseconds=30))
    with time_machine.travel(closes - timedelta(milliseconds=30), tick=True):
        answers = await asyncio.gather(*(submit(client, pid, headers) for _ in range(4)))
    assert {a.status_code for a in answers} <= {200, 409}
    versions = await stored(pid)
    assert len(versions) == 1 + sum(a.status_code == 200 for a in answers)
    assert all(at < closes for _v, at in versions), versions


async def test_the_database_clock_decides_on_both_databases(client, monkeypatch):
    """No frozen clock: the stage closes two seconds from now by the database's own clock."""
    monkeypatch.setattr(clock_module, "database_follows_app_clock", False)
    challenge, pid, headers = await ready_to_submit(client, start=now() - timedelta(days=1))
    closes = now() + timedelta(seconds=2)
    await ProposalStage.raw("SELECT 1")  # the engine is warm
    from marketplace.challenges.tables import ChallengeStage

    await ChallengeStage.update({ChallengeStage.closes_at: closes}).where(
        (ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == EOI.key))
    first = await submit(client, pid, headers)
    assert first.status_code == 200, first.text
    [(version, at)] = await stored(pid)
    assert version == 1 and abs((at - now()).total_seconds()) < 2 and at < closes
    async with write_lock_held_elsewhere(pid):
        waiting = asyncio.create_task(submit(client, pid, headers))
        await asyncio.sleep((closes - now()).total_seconds() + 0.3)
    late = await waiting
    assert late.status_code == 409, late.text
    assert [v for v, _at in await stored(pid)] == [1]


async def test_a_question_still_being_asked_at_the_qa_deadline_is_refused(client, monkeypatch):
    from marketplace.challenges import dialogue
    from marketplace.challenges.tables import Question
    from tests.factories_challenges import make_challenge
    from tests.test_challenges_dialogue import _ask

    with time_machine.travel(T0, tick=False) as clock:
        challenge = await make_challenge(qa_closes_at=T0 + timedelta(days=3))
        company = await make_user("company_member")
        clock.move_to(T0 + timedelta(days=3) - timedelta(milliseconds=10))
        real = dialogue._tell_buyer_team

        async def slow(row):
            clock.move_to(T0 + timedelta(days=3, milliseconds=140))
            await real(row)

        monkeypatch.setattr(dialogue, "_tell_buyer_team", slow)
        late = await _ask(client, challenge, company)
        assert late.status_code == 409, late.text
        assert await Question.count() == 0


async def test_an_objection_still_being_written_when_the_standstill_ends_is_refused(client, monkeypatch):
    from marketplace.awards import letters
    from marketplace.awards.tables import Objection
    from tests.test_contracts_api import _awarded

    s = await _awarded(client)
    ends = as_utc(datetime.fromisoformat(s.award["standstill_ends_at"].replace("Z", "+00:00")))
    with time_machine.travel(ends - timedelta(milliseconds=10), tick=False) as clock:
        real = letters.tell_buyer_of_objection

        async def slow(award, objection):
            clock.move_to(ends + timedelta(milliseconds=140))
            await real(award, objection)

        monkeypatch.setattr(letters, "tell_buyer_of_objection", slow)
        late = await client.post(f"/api/v1/awards/{s.award['id']}/objections", json={"text": "Our price was lower."},
                                 headers=await token_for(s.loser_member))
        assert late.status_code == 409, late.text
        assert await Objection.count() == 0
