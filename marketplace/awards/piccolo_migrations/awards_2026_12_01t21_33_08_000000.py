"""One award per proposal and stage (portable unique index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T21:33:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique award per proposal and stage"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="awards", description=DESCRIPTION)

    async def create_index():
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE UNIQUE INDEX award_proposal_stage ON award (proposal, stage)")

    manager.add_raw(create_index)
    return manager
