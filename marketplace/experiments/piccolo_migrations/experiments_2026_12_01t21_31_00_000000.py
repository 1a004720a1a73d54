"""Contracts signed before `contract.experiment_id` existed learn which experiment they started."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T21:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill contract.experiment_id"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="experiments", description=DESCRIPTION)

    async def backfill():
        from marketplace.core.db import engine

        await engine().run_ddl(
            "UPDATE contract SET experiment_id = (SELECT experiment.id FROM experiment WHERE experiment.contract_id = contract.id) "
            "WHERE experiment_id IS NULL")

    manager.add_raw(backfill)
    return manager
