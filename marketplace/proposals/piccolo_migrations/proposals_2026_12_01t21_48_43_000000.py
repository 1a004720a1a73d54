"""At most one pitch slot per proposal and stage (portable unique index; free slots have no proposal)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T21:48:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "one pitch slot per proposal and stage"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="proposals", description=DESCRIPTION)

    async def create_index():
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE UNIQUE INDEX pitch_slot_proposal_stage ON pitch_slot (proposal, stage)")

    manager.add_raw(create_index)
    return manager
