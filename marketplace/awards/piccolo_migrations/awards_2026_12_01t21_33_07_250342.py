"""A proposal may be awarded once per stage: a paid phase's contract, then the final one.

Adds `award.stage` and drops the unique constraint on `award.proposal` (an index remains). PostgreSQL
drops the constraint with ALTER TABLE; SQLite cannot, so there the table is rebuilt from its own
stored definition, the documented way (a new table, copy, drop, rename, with foreign keys off)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T21:33:07:250342"
VERSION = "1.38.0"
DESCRIPTION = "award once per proposal and stage"


def _is_sqlite() -> bool:
    from marketplace.core.db import engine

    return engine().engine_type == "sqlite"


class _Manager(MigrationManager):
    async def _run_alter_columns(self, backwards: bool = False):  # type: ignore[no-untyped-def]
        if not _is_sqlite():  # SQLite: done by the rebuild below
            await super()._run_alter_columns(backwards=backwards)


async def _rebuild_award_without_unique_proposal() -> None:
    """SQLite's documented table rebuild, on a connection of its own with foreign keys off (a
    connection from Piccolo turns them on, and then dropping `award` would cascade to contracts)."""
    if not _is_sqlite():
        return
    import re
    import sqlite3

    from marketplace.core.db import engine

    con = sqlite3.connect(engine().connection_kwargs["database"], isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = OFF")
        con.execute("BEGIN IMMEDIATE")
        create = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'award'").fetchone()[0]
        indexes = [r[0] for r in con.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'award' AND sql IS NOT NULL")]
        assert '"proposal" UUID UNIQUE' in create, create
        create = re.sub(r'^CREATE TABLE (IF NOT EXISTS )?"award"', 'CREATE TABLE "award_new"', create)
        con.execute(create.replace('"proposal" UUID UNIQUE', '"proposal" UUID'))
        con.execute('INSERT INTO "award_new" SELECT * FROM "award"')
        con.execute('DROP TABLE "award"')
        con.execute('ALTER TABLE "award_new" RENAME TO "award"')
        for sql in indexes:
            con.execute(sql)
        con.execute('CREATE INDEX award_proposal ON "award" ("proposal")')
        broken = con.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"award rebuild would break foreign keys: {broken[:5]}")
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


async def forwards():
    # not in one transaction: on SQLite the rebuild runs on its own connection, which a pending
    # transaction of Piccolo's would lock out
    manager = _Manager(migration_id=ID, app_name="awards", description=DESCRIPTION, wrap_in_transaction=False)
    manager.add_raw(_rebuild_award_without_unique_proposal)
    manager.add_column(
        table_class_name="Award",
        tablename="award",
        column_name="stage",
        db_column_name="stage",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    manager.alter_column(
        table_class_name="Award",
        tablename="award",
        column_name="proposal",
        db_column_name="proposal",
        params={"unique": False, "index": True},
        old_params={"unique": True, "index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )
    return manager
