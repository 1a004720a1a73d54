"""One row per version of a document (portable unique index, unlike Piccolo's table constraints)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique document version"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="documents", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        await engine().run_ddl(
            "CREATE UNIQUE INDEX document_version ON document (kind, subject_type, subject_id, language, version)"
        )

    manager.add_raw(create_indexes)
    return manager
