"""One row per version of a challenge document (a portable unique index, unlike Piccolo's table constraints):
two uploads racing to replace the same document cannot both become version N+1."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T00:53:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique challenge document version"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="challenges", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        await engine().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS challenge_document_version ON challenge_document (series, version)")

    manager.add_raw(create_indexes)
    return manager
