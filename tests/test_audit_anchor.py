"""The audit chain is anchored: each event's hash is authenticated with the audit key (which the
database does not hold) and the worker publishes authenticated checkpoints of the chain's head. Each
of five tamperings by someone who can write the database is found, naming the first bad event."""

import asyncio
import json

import pytest

from marketplace.core import db
from marketplace.transparency import anchor, audit
from marketplace.transparency.tables import AuditCheckpoint, AuditEvent, PendingAuditEvent
from tests.factories import make_user, token_for


async def chain_of(n: int, *, checkpoint: bool = True) -> list[dict]:
    for i in range(1, n + 1):
        await audit.record(None, "test.event", "thing", i, {"n": i})
    await audit.chain_pending()
    if checkpoint:
        assert (await anchor.write_checkpoint())["seq"] == n
    return await AuditEvent.select().order_by(AuditEvent.seq)


async def rehash_from(seq: int) -> None:
    """What an attacker without the key does after an edit: recompute every later hash."""
    rows = await AuditEvent.select().order_by(AuditEvent.seq)
    prev = audit.GENESIS
    for row in rows:
        if row["seq"] >= seq:
            digest = audit.event_hash(prev, row)
            await AuditEvent.update({AuditEvent.prev_hash: prev, AuditEvent.hash: digest}).where(AuditEvent.id == row["id"])
            row["hash"] = digest
        prev = row["hash"]


async def test_an_intact_chain_with_its_checkpoints_verifies():
    await chain_of(5)
    result = await audit.verify()
    assert result.ok and result.checked == 5 and result.checkpoints == 1


async def test_an_edited_event_is_named():
    rows = await chain_of(5)
    await AuditEvent.update({AuditEvent.data: json.dumps({"n": 999})}).where(AuditEvent.id == rows[2]["id"])
    result = await audit.verify()
    assert (result.ok, result.broken_seq, result.broken_id) == (False, 3, str(rows[2]["id"]))


async def test_an_event_deleted_in_the_middle_is_named():
    rows = await chain_of(5)
    await AuditEvent.delete().where(AuditEvent.seq == 3)
    result = await audit.verify()
    assert not result.ok and result.broken_seq == 3 and "missing" in result.reason
    assert result.broken_id == str(rows[3]["id"]), "the first event after the gap is named too"


async def test_deleting_the_tail_is_found_against_the_checkpoint():
    await chain_of(5)
    await AuditEvent.delete().where(AuditEvent.seq >= 4)
    result = await audit.verify()
    assert not result.ok and result.broken_seq == 4 and "#4 to #5 are missing" in result.reason


async def test_deleting_the_tail_and_the_checkpoint_is_found_against_a_kept_copy(client):
    await chain_of(5)
    kept = (await client.get("/api/v1/audit/checkpoints")).json()["items"]  # anyone may keep them
    await AuditEvent.delete().where(AuditEvent.seq >= 4)
    await AuditCheckpoint.delete().where(AuditCheckpoint.seq > 0)
    assert (await audit.verify()).ok, "without a kept checkpoint, a clean truncation looks whole"
    result = await audit.verify(checkpoints=kept)
    assert not result.ok and result.broken_seq == 4


async def test_reordered_events_are_named():
    rows = await chain_of(5)
    await AuditEvent.update({AuditEvent.seq: 1000}).where(AuditEvent.id == rows[1]["id"])
    await AuditEvent.update({AuditEvent.seq: 2}).where(AuditEvent.id == rows[2]["id"])
    await AuditEvent.update({AuditEvent.seq: 3}).where(AuditEvent.id == rows[1]["id"])
    result = await audit.verify()
    assert (result.ok, result.broken_seq, result.broken_id) == (False, 2, str(rows[2]["id"]))


async def test_a_rewritten_and_rehashed_chain_is_named_at_the_first_rewritten_event():
    rows = await chain_of(5)
    forged = {**rows[1], "data": json.dumps({"n": 42}), "body_mac": ""}
    await AuditEvent.update({AuditEvent.data: forged["data"], AuditEvent.body_mac: ""}).where(AuditEvent.id == rows[1]["id"])
    await rehash_from(2)
    result = await audit.verify()
    assert (result.ok, result.broken_seq, result.broken_id) == (False, 2, str(rows[1]["id"]))
    assert "rewritten" in result.reason or "MAC" in result.reason


async def test_a_forged_checkpoint_is_refused():
    await chain_of(3)
    await AuditCheckpoint.update({AuditCheckpoint.seq: 9}).where(AuditCheckpoint.seq == 3)
    result = await audit.verify()
    assert not result.ok and "not authentic" in result.reason


async def test_an_event_edited_before_it_was_chained_is_named():
    await audit.record(None, "test.event", "thing", 1, {"n": 1})
    await PendingAuditEvent.update({PendingAuditEvent.data: json.dumps({"n": 2})}).where(PendingAuditEvent.action == "test.event")
    result = await audit.verify()
    assert (result.ok, result.broken_seq) == (False, 1) and "recorded with" in result.reason


async def test_checkpoints_are_written_by_the_worker_logged_and_published(client, caplog):
    from marketplace.worker import discover_jobs

    jobs = {job.__name__: job for job in discover_jobs()}
    await audit.record(None, "test.event", "thing", 1, {})
    with caplog.at_level("INFO", logger="marketplace.audit"):
        assert await jobs["write_checkpoint_when_due"]() == 1
        assert await jobs["write_checkpoint_when_due"]() == 0, "not again before it is due"
    published = (await client.get("/api/v1/audit/checkpoints")).json()["items"]
    assert [(c["seq"], len(c["hash"]), len(c["mac"])) for c in published] == [(1, 64, 64)]
    assert published[0]["hash"] in caplog.text and published[0]["mac"] in caplog.text
    page = await client.get("/audit/checkpoints")
    assert page.status_code == 200 and published[0]["hash"] in page.text
    assert 'href="/audit/checkpoints"' in (await client.get("/results")).text
    assert anchor.authentic(published[0])
    assert not anchor.authentic({**published[0], "seq": 2})


async def test_recording_takes_no_lock_and_the_trail_reads_chained(client):
    await audit.record(None, "test.event", "thing", 1, {}, before={"status": "draft"}, after={"status": "published"}, ip="203.0.113.9")
    assert await AuditEvent.count() == 0 and await PendingAuditEvent.count() == 1
    admin = await token_for(await make_user(admin=True))
    [event] = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    assert event["seq"] == 1 and event["ip"] == "203.0.113.9"
    assert event["data"] == {"before": {"status": "draft"}, "after": {"status": "published"}}


@pytest.mark.parametrize("n", [3])
async def test_the_command_line_checks_a_kept_checkpoints_file(n, tmp_path):
    from tests.test_transparency import _marketplace

    await chain_of(n)
    kept = tmp_path / "checkpoints.json"
    kept.write_text(json.dumps({"items": await anchor.published()}))
    await AuditEvent.delete().where(AuditEvent.seq == n)
    await AuditCheckpoint.delete().where(AuditCheckpoint.seq > 0)
    broken = _marketplace("audit", "verify", "--checkpoints", str(kept))
    assert broken.returncode == 1 and f"event #{n}" in broken.stderr


async def test_two_transactions_record_without_waiting_for_each_other():
    """No platform-wide audit lock: a long transaction that recorded an event does not hold up others."""
    if not db.is_postgres():
        pytest.skip("SQLite serialises every writer anyway")
    recorded, release = asyncio.Event(), asyncio.Event()

    async def long_transaction():
        async with db.transaction():
            await audit.record(None, "test.slow", "thing", 1, {})
            recorded.set()
            await release.wait()  # e.g. rendering an e-mail inside the transaction

    slow = asyncio.create_task(long_transaction())
    await recorded.wait()
    try:
        await asyncio.wait_for(audit.record(None, "test.fast", "thing", 2, {}), timeout=5)
    finally:
        release.set()
        await slow
    result = await audit.verify()
    assert result.ok and result.checked == 2
