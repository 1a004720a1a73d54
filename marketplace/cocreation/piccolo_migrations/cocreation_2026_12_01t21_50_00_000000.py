"""One co-creation review per party and experiment (portable unique index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T21:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique review per party"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cocreation", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE UNIQUE INDEX experiment_review_party ON experiment_review (experiment, party)")

    manager.add_raw(create_indexes)
    return manager
