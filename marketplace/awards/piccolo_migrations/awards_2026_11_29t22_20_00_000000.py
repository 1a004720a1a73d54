"""One signature per party and contract (portable unique index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique signature per party"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="awards", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE UNIQUE INDEX signature_contract_party ON signature (contract, party)")
        await engine().run_ddl("CREATE UNIQUE INDEX award_milestone_position ON award_milestone (award, position)")

    manager.add_raw(create_indexes)
    return manager
