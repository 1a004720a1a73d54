"""Composite unique indexes (portable to SQLite)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes"

STATEMENTS = (
    "CREATE UNIQUE INDEX criterion_challenge_stage_key ON criterion (challenge, stage, key)",
    "CREATE UNIQUE INDEX evaluator_assignment_pair ON evaluator_assignment (challenge, evaluator)",
    "CREATE UNIQUE INDEX declaration_pair ON declaration (challenge, evaluator)",
    "CREATE UNIQUE INDEX score_once ON score (proposal, stage, criterion, evaluator)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluation", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        for sql in STATEMENTS:
            await engine().run_ddl(sql)

    manager.add_raw(create_indexes)
    return manager
