"""Test harness: a fresh database per run (SQLite file, or a new PostgreSQL database when
MARKETPLACE_TEST_DB=postgres), migrated once with the real migrations, emptied after every test."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="marketplace-tests-"))
_PG_ADMIN_URL = os.environ.get("MARKETPLACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_PG_DB_NAME = f"marketplace_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
USE_POSTGRES = os.environ.get("MARKETPLACE_TEST_DB") == "postgres"
# PostgreSQL's own faults (a server restart during requests) mean nothing on SQLite: collected in the PostgreSQL run only.
collect_ignore = [] if USE_POSTGRES else ["test_fault_postgres_restart.py"]


def _pg_url(dbname: str) -> str:
    return re.sub(r"/[^/]*$", f"/{dbname}", _PG_ADMIN_URL)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if USE_POSTGRES:
    asyncio.run(_pg_admin(f'CREATE DATABASE "{_PG_DB_NAME}"'))
    os.environ["DATABASE_URL"] = _pg_url(_PG_DB_NAME)
else:
    os.environ["DATABASE_URL"] = f"sqlite:///{_TMP / 'test.sqlite3'}"
os.environ["MARKETPLACE_RUN_WORKER"] = "0"
os.environ["MARKETPLACE_FAST_PASSWORD_HASH"] = "1"
os.environ["MARKETPLACE_UPLOAD_DIR"] = str(_TMP / "uploads")
os.environ["MARKETPLACE_DATA_DIR"] = str(_TMP)  # nothing the suite runs writes into the checkout's var/
os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite-only")
os.environ.pop("SMTP_URL", None)
os.environ.pop("STRIPE_API_KEY", None)

import httpx  # noqa: E402
import pytest  # noqa: E402

from marketplace.core import clock, db  # noqa: E402
from marketplace.settings import get_settings, use_settings  # noqa: E402

clock.database_follows_app_clock = True  # frozen clocks hold for the database's clock too (tests/test_proposals_deadline.py runs the real one)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    if USE_POSTGRES:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_PG_DB_NAME}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def database():
    await db.open_pool()
    await db.migrate()
    yield
    await db.close_pool()


_TABLES: list[str] = []


async def _empty_all_tables() -> None:
    if not _TABLES:
        _TABLES.extend(t._meta.tablename for t in db.all_tables())
    tables = _TABLES
    engine = db.engine()
    if db.is_postgres():
        # DELETE with foreign-key triggers off is several times faster than TRUNCATE for tiny tables.
        sql = "BEGIN; SET LOCAL session_replication_role = replica; " + " ".join(f'DELETE FROM "{t}";' for t in tables) + " COMMIT;"
        import asyncpg

        async with engine.pool.acquire() as conn:
            try:
                await conn.execute(sql)
            except asyncpg.InsufficientPrivilegeError:  # not a superuser: the slower way
                await conn.execute("ROLLBACK")
                await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
    else:
        conn = await engine.get_connection()
        try:
            await conn.executescript("PRAGMA foreign_keys = OFF; BEGIN; " + " ".join(f'DELETE FROM "{t}";' for t in tables) + " COMMIT;")
        finally:
            await conn.close()


@pytest.fixture(autouse=True)
async def clean_database(database):
    yield
    await _empty_all_tables()


@pytest.fixture
def settings():
    """The settings in force; change them with `override_settings`."""
    return get_settings()


@pytest.fixture
def override_settings():
    from dataclasses import replace

    original = get_settings()

    def apply(**changes):
        use_settings(replace(get_settings(), **changes))

    yield apply
    use_settings(original)


@pytest.fixture(scope="session")
def app(database):
    from marketplace.app import create_app

    return create_app(get_settings())


@pytest.fixture
async def client(app):
    """An HTTP client on the app (no network), with its own cookie jar."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def tmp_dir() -> Path:
    return _TMP


@pytest.fixture(params=["local", "database"])
def file_storage(request, override_settings):
    """Run the test with each file storage backend (marketplace.files): the upload folder, then the database."""
    override_settings(file_storage=request.param)
    return request.param
