"""One support per entry and supporter (portable unique index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T22:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique support per supporter"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cocreation", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE UNIQUE INDEX pain_point_support_once ON pain_point_support (pain_point, supporter)")

    manager.add_raw(create_indexes)
    return manager
