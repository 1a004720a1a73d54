"""Full-text search over challenges: a GIN index on a tsvector expression (PostgreSQL), or an FTS5 table
kept in sync by triggers (SQLite); and an index for the budget sort."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "challenge full-text search"

# The searched text; the 22:40 migration stores the same document as a tsvector column on PostgreSQL.
COLUMNS = ("title", "summary", "problem", "affected_users", "desired_outcomes", "topics")
DOCUMENT = " || ' ' || ".join(COLUMNS)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="challenges", description=DESCRIPTION)

    async def create_search():
        from marketplace.core.db import engine, is_postgres

        db = engine()
        await db.run_ddl("CREATE INDEX challenge_budget ON challenge (budget_cap_cents)")
        if is_postgres():
            await db.run_ddl(f"CREATE INDEX challenge_search ON challenge USING GIN (to_tsvector('simple', {DOCUMENT}))")
            return
        new = " || ' ' || ".join(f"new.{c}" for c in COLUMNS)
        await db.run_ddl("CREATE VIRTUAL TABLE challenge_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
        await db.run_ddl(f"CREATE TRIGGER challenge_fts_insert AFTER INSERT ON challenge BEGIN "
                         f"INSERT INTO challenge_fts(rowid, body) VALUES (new.rowid, {new}); END")
        await db.run_ddl(f"CREATE TRIGGER challenge_fts_update AFTER UPDATE OF title, summary, problem, affected_users, "
                         f"desired_outcomes, topics ON challenge BEGIN "
                         f"DELETE FROM challenge_fts WHERE rowid = old.rowid; "
                         f"INSERT INTO challenge_fts(rowid, body) VALUES (new.rowid, {new}); END")
        await db.run_ddl("CREATE TRIGGER challenge_fts_delete AFTER DELETE ON challenge BEGIN "
                         "DELETE FROM challenge_fts WHERE rowid = old.rowid; END")
        await db.run_ddl(f"INSERT INTO challenge_fts(rowid, body) SELECT rowid, {DOCUMENT} FROM challenge")

    manager.add_raw(create_search)
    return manager
