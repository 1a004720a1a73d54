"""One row per (challenge, stage key)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique stage per challenge"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="challenges", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE UNIQUE INDEX challenge_stage_key ON challenge_stage (challenge, key)")

    manager.add_raw(create_indexes)
    return manager
