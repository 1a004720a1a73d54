"""Composite unique indexes (portable to SQLite): one proposal per company and challenge,
one working copy per stage, one kept version per number, one decision per stage."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes"

STATEMENTS = (
    "CREATE UNIQUE INDEX proposal_challenge_company ON proposal (challenge, company)",
    "CREATE UNIQUE INDEX proposal_stage_key ON proposal_stage (proposal, stage)",
    "CREATE UNIQUE INDEX proposal_stage_version_number ON proposal_stage_version (proposal_stage, version)",
    "CREATE UNIQUE INDEX decision_proposal_stage ON decision (proposal, stage)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="proposals", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        for sql in STATEMENTS:
            await engine().run_ddl(sql)

    manager.add_raw(create_indexes)
    return manager
