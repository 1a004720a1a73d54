"""`marketplace backup` then `marketplace restore` gives back the same installation: every row of every table, every
stored file byte for byte, and an audit trail that still verifies. On SQLite and on PostgreSQL, as an operator runs
them (the commands, in their own processes, told which database to use). A restore goes into a database of its
own, created and dropped here (never the suite's), and refuses one that already holds tables."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import asyncpg

from marketplace.accounts.services import create_admin
from marketplace.core import db
from marketplace.transparency import audit
from tests.factories import make_org, make_user
from tests.factories_proposals import make_open_challenge

ROOT = Path(__file__).resolve().parent.parent
STORED = {"documents/3c/3c5a.pdf": b"%PDF-1.7 brief\n", "proposals/ab/attachment.bin": bytes(range(256)) * 40}


def _marketplace(*args: str | Path, database_url: str, upload_dir: Path, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_UPLOAD_DIR": str(upload_dir),
           "MARKETPLACE_DATA_DIR": str(data_dir), "LOG_FORMAT": "text"}
    return subprocess.run([sys.executable, "-m", "marketplace", *map(str, args)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


async def _counts_here() -> dict[str, int]:
    return {t._meta.tablename: await t.count() for t in db.all_tables()}


async def _counts_in(url: str, tables: list[str]) -> dict[str, int]:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            conn.close()
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
    finally:
        await conn.close()


class _EmptyDatabase:
    """A database of the suite's kind for the restore: a new SQLite file, or a PostgreSQL database created on the
    suite's server and dropped afterwards."""

    def __init__(self, folder: Path) -> None:
        self.admin = os.environ.get("MARKETPLACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        self.name = f"marketplace_restore_{uuid.uuid4().hex[:8]}"
        self.url = (re.sub(r"/[^/]*$", f"/{self.name}", self.admin) if db.is_postgres()
                    else f"sqlite:///{folder / 'restored.sqlite3'}")

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def __aenter__(self) -> str:
        if db.is_postgres():
            await self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        if db.is_postgres():
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def test_a_backup_restores_every_row_and_file_into_an_empty_installation(tmp_path):
    buyer = await make_org("public_body", name="City of Ghent")
    await make_user("buyer_admin", org=buyer)
    await make_open_challenge(buyer)
    await create_admin("admin@example.be", "Platform admin", "a long passphrase for the admin")
    await audit.chain_pending()
    before = await _counts_here()
    assert before["audit_event"] >= 1 and before["challenge"] == 1

    uploads = tmp_path / "uploads"
    for name, content in STORED.items():
        (uploads / name).parent.mkdir(parents=True, exist_ok=True)
        (uploads / name).write_bytes(content)
    archive = tmp_path / "saved" / "marketplace.tar"
    suite = os.environ["DATABASE_URL"]

    saved = _marketplace("backup", "--output", archive, database_url=suite, upload_dir=uploads, data_dir=tmp_path / "data")
    assert saved.returncode == 0, saved.stderr
    kind = "postgresql" if db.is_postgres() else "sqlite"
    assert saved.stdout.strip() == f"Backup written to {archive}: the {kind} database and 2 files."
    assert archive.stat().st_mode & 0o777 == 0o600, "the archive holds every account: its owner reads it"
    with tarfile.open(archive) as tar:
        assert {"manifest.json", "files/documents/3c/3c5a.pdf", "files/proposals/ab/attachment.bin"} <= set(tar.getnames())

    restored_uploads = tmp_path / "restored-uploads"
    async with _EmptyDatabase(tmp_path) as target:
        restored = _marketplace("restore", archive, database_url=target, upload_dir=restored_uploads, data_dir=tmp_path / "data")
        assert restored.returncode == 0, restored.stderr
        assert await _counts_in(target, list(before)) == before
        assert {str(p.relative_to(restored_uploads)): p.read_bytes() for p in restored_uploads.rglob("*") if p.is_file()} == STORED

        verified = _marketplace("audit", "verify", database_url=target, upload_dir=restored_uploads, data_dir=tmp_path / "data")
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout.startswith(f"Audit trail intact: {before['audit_event']} events")

        again = _marketplace("restore", archive, database_url=target, upload_dir=tmp_path / "elsewhere", data_dir=tmp_path / "data")
        assert again.returncode == 1
        assert "already holds tables: restore into" in again.stderr, "a restore never mixes two installations"
    assert await _counts_here() == before, "the suite's own database is untouched"
