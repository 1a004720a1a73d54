"""Indexes that serve the catalogue's sorts with their id tie-breaker, so a page is read in index order; on
PostgreSQL a stored tsvector column, so that search never recomputes a document's vector."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "catalogue sort indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="challenges", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine, is_postgres

        db = engine()
        if is_postgres():
            columns = ("title", "summary", "problem", "affected_users", "desired_outcomes", "topics")
            document = " || ' ' || ".join(columns)
            await db.run_ddl(f"ALTER TABLE challenge ADD COLUMN search_vector tsvector "
                             f"GENERATED ALWAYS AS (to_tsvector('simple', {document})) STORED")
            await db.run_ddl("DROP INDEX IF EXISTS challenge_search")
            await db.run_ddl("CREATE INDEX challenge_search_vector ON challenge USING GIN (search_vector)")
        await db.run_ddl("DROP INDEX IF EXISTS challenge_budget")
        await db.run_ddl("CREATE INDEX challenge_budget_sort ON challenge (budget_cap_cents, id)")
        await db.run_ddl("CREATE INDEX challenge_newest_sort ON challenge (published_at, id)")
        await db.run_ddl("CREATE INDEX challenge_stage_closing_sort ON challenge_stage (closes_at, challenge)")

    manager.add_raw(create_indexes)
    return manager
