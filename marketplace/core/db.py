"""The database engine (SQLite or PostgreSQL, by DATABASE_URL), the domain apps, and migrations."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def redacted_url(url: str) -> str:
    """The URL to show people: never its password."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.rsplit("@", 1)[1]
    return parsed._replace(netloc=f"{parsed.username}@{netloc}" if parsed.username else netloc).geturl()


class _ReleasingTransaction(PostgresTransaction):
    """Piccolo's transaction, made to survive the server going away under it (a restart, a failover). Piccolo's
    own raises from its rollback or commit before it resets the task's current transaction and releases the
    connection (and a failed BEGIN never releases it): a long-lived task, the worker, then ran every later query
    in that dead transaction, for ever. Here the task's context is always reset, the connection always goes back
    to the pool (closed, so the pool opens a new one), and a rollback that meets the outage lets the error of
    the block itself be the one raised (a 503 to try again)."""

    __slots__ = ()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back(broken=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:  # type: ignore[no-untyped-def]
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException as ending:
            await self._give_back(broken=True)
            if exception is not None and is_unavailable(ending):
                return False  # the rollback met the same outage: the error the block raised is the one to tell
            raise
        else:
            await self._give_back(broken=False)
        return exception is None

    async def _give_back(self, broken: bool) -> None:
        context = getattr(self, "context", None)
        if context is not None:
            self.engine.current_transaction.reset(context)
            self.context = None
        if broken:
            with contextlib.suppress(Exception):  # already closed (and maybe handed back by the pool itself)
                self.connection.terminate()  # a half-finished transaction on a live socket must not be reused
        if self.engine.pool:  # a connection the pool already took back is ignored
            await self.engine.pool.release(self.connection)
        elif not self.connection.is_closed():
            await self.connection.close()


class ReleasingPostgresEngine(PostgresEngine):
    """PostgreSQL, with transactions that give their connection back whatever happens (see above)."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _ReleasingTransaction(engine=self, allow_nested=allow_nested)


def engine_from_url(url: str) -> Engine:
    """Build the Piccolo engine that `url` names."""
    if url.startswith(("postgres://", "postgresql://")):
        return ReleasingPostgresEngine(config={"dsn": url}, log_queries=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SystemExit(f"error: cannot create the folder of the SQLite database {url}: {exc.strerror or exc}") from None
        return SQLiteEngine(path=str(path), timeout=30)
    raise SystemExit(f"error: DATABASE_URL must look like sqlite:///path/to/file.sqlite3 or postgresql://user@host/db, "
                     f"got {redacted_url(url)!r}")


def connection_problem(exc: BaseException) -> str | None:
    """One line naming why the database cannot be used (and its URL, without the password), or None
    when `exc` is not about reaching the database."""
    from marketplace.settings import get_settings

    where = redacted_url(get_settings().database_url)
    reason: str | None = None
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        asyncpg = None  # type: ignore[assignment]
    if asyncpg is not None and isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError):
        reason = f"the database refused the login: {exc}"
    elif asyncpg is not None and isinstance(exc, asyncpg.InvalidCatalogNameError):
        reason = f"no such database: {exc}"
    elif isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
        reason = "the SQLite file cannot be opened or created (check the folder exists and is writable)"
    elif isinstance(exc, ConnectionRefusedError | ConnectionResetError | socket.gaierror | TimeoutError) or (
            isinstance(exc, OSError) and ("Connect call failed" in str(exc) or "Multiple exceptions" in str(exc))):
        reason = f"the database server cannot be reached ({exc.strerror or exc})"
    return f"cannot use the database at {where}: {reason}" if reason else None


RETRY_AFTER_SECONDS = 5
"""What a 503 tells a client to wait while the database cannot be reached (a restart takes seconds)."""


def is_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what it was raised from) says the database cannot be reached right now: a refused or
    reset connection, a server shutting down, restarting or starting up, a connection it closed. Not a bug of
    ours: the request may be tried again (503 with Retry-After), and asyncpg's pool replaces closed connections."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        asyncpg = None  # type: ignore[assignment]
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, ConnectionError | socket.gaierror) or (
                isinstance(exc, OSError) and ("Connect call failed" in str(exc) or "Multiple exceptions" in str(exc))):
            return True
        if asyncpg is not None:
            if isinstance(exc, asyncpg.PostgresConnectionError | asyncpg.AdminShutdownError | asyncpg.CannotConnectNowError
                          | asyncpg.CrashShutdownError | asyncpg.TooManyConnectionsError):
                return True
            if isinstance(exc, asyncpg.InterfaceError) and (
                    "connection is closed" in str(exc) or "released back to the pool" in str(exc)):
                return True  # the pool takes a connection back by itself when the server closes it
            if isinstance(exc, asyncpg.InternalClientError) and "another operation" in str(exc):
                # the server's "terminating connection" arrived on an idle pooled connection and its socket is not
                # closed yet: the query meets a protocol still consuming that error (the pool drops it once closed)
                return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def discover_apps() -> list[str]:
    """Every domain folder with a `piccolo_app.py` is a Piccolo app (dependencies order them)."""
    return sorted(
        f"marketplace.{path.parent.name}.piccolo_app" for path in PACKAGE_DIR.glob("*/piccolo_app.py")
    )


def engine() -> Engine:
    from piccolo.engine import engine_finder

    found = engine_finder()
    assert found is not None, "marketplace.piccolo_conf defines DB"
    return found


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def all_tables() -> list[type[Table]]:
    """Every table of every app, parents before children."""
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """One all-or-nothing unit of work. On SQLite the write lock is taken at the start."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def stamp_before(table: type[Table], row_id: Any, column: Any, deadline: datetime) -> datetime | None:
    """Write the database's clock into `column` of the row `row_id` if that moment is still before
    `deadline`; returns the moment, or None (nothing written) once the deadline has passed.

    Make it the last write of a transaction, once every lock the transaction needs is held, so that
    the moment it decides on is the moment the change commits: a request that waited for a lock
    across the deadline is refused. PostgreSQL: `clock_timestamp()` in the same statement. SQLite
    has no server clock and its write lock is taken when the transaction begins, so the clock is
    read here, inside it."""
    from marketplace.core import clock

    if is_postgres() and not clock.database_follows_app_clock:
        name, col = table._meta.tablename, column._meta.db_column_name
        rows = await table.raw(
            f'WITH c AS (SELECT clock_timestamp() AS t) UPDATE "{name}" SET "{col}" = c.t FROM c '
            f'WHERE "{name}"."id" = {{}} AND c.t < {{}} RETURNING c.t AS stamp', row_id, deadline)
        return clock.as_utc(rows[0]["stamp"]) if rows else None
    moment = clock.now()
    if moment >= clock.as_utc(deadline):
        return None
    await table.update({column: moment}).where(table._meta.primary_key == row_id)
    return moment


def is_integrity_error(exc: BaseException) -> bool:
    """True for a unique, foreign-key or check violation, whichever engine raised it."""
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, asyncpg.exceptions.IntegrityConstraintViolationError)


async def pending_migrations() -> list[str]:
    """`app:migration id` of every migration not yet applied (all of them on a new database)."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    manager = BaseMigrationManager()
    applied: set[tuple[str, str]] = set()
    if await Migration.table_exists():
        applied = {(r["app_name"], r["name"]) for r in await Migration.select(Migration.app_name, Migration.name)}
    pending = []
    for module in manager.get_app_modules():
        app_name = module.APP_CONFIG.app_name
        ids = manager.get_migration_ids(manager.get_migration_modules(module.APP_CONFIG.resolved_migrations_folder_path))
        pending += [f"{app_name}:{i}" for i in ids if (app_name, i) not in applied]
    return pending


async def migrate() -> list[str]:
    """Apply every pending migration of every app, in dependency order; returns what was applied."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")
    before = await pending_migrations()
    import contextlib
    import io
    import logging

    chatter = io.StringIO()  # Piccolo prints a banner per app; keep only what was applied
    with contextlib.redirect_stdout(chatter):
        result = await run_forwards(app_name="all", fake=False)
    if not result.success:
        raise SystemExit(f"migrations failed: {result.message}\n{chatter.getvalue()}")
    still = set(await pending_migrations()) if before else set()
    applied = [m for m in before if m not in still]
    for name in applied:
        logging.getLogger("marketplace.db").info("migration applied: %s", name)
    return applied


async def _no_session_reset(_connection: object) -> None:
    """Piccolo takes a pooled connection per query; asyncpg's default reset then costs a round trip
    (`RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()`) after every query. The app keeps no
    session state (its locks are transaction-scoped, it sets nothing, listens to nothing), and an open
    transaction is still rolled back by asyncpg before this is called."""


async def open_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is None:
        await db.start_connection_pool(min_size=1, max_size=10, reset=_no_session_reset)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()
