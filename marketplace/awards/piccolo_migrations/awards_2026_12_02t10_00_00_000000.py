"""One live award per proposal and stage: a cancelled award no longer blocks a new one.

The unique index on (proposal, stage) becomes partial (`WHERE status <> 'cancelled'`), which SQLite
and PostgreSQL both support: after an upheld objection the officer can award the proposal again,
and the cancelled award stays in the history. Two live awards are still refused by the database."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique live award per proposal and stage"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="awards", description=DESCRIPTION)

    async def live_awards_only():
        from marketplace.core.db import engine

        await engine().run_ddl("DROP INDEX IF EXISTS award_proposal_stage")
        await engine().run_ddl("CREATE UNIQUE INDEX award_proposal_stage_live ON award (proposal, stage) "
                               "WHERE status <> 'cancelled'")

    async def one_award_per_proposal_and_stage():
        from marketplace.core.db import engine

        await engine().run_ddl("DROP INDEX IF EXISTS award_proposal_stage_live")
        await engine().run_ddl("CREATE UNIQUE INDEX award_proposal_stage ON award (proposal, stage)")

    manager.add_raw(live_awards_only)
    manager.add_raw_backwards(one_award_per_proposal_and_stage)
    return manager
