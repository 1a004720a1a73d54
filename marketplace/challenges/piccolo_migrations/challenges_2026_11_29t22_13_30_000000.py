"""One follow per (challenge, user), one notice per (user, challenge), one co-sponsorship per body."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:13:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique follows, notices, co-sponsors"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="challenges", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        db = engine()
        await db.run_ddl("CREATE UNIQUE INDEX follow_once ON follow (challenge, \"user\")")
        await db.run_ddl("CREATE UNIQUE INDEX match_notice_once ON match_notice (\"user\", challenge)")
        await db.run_ddl("CREATE UNIQUE INDEX co_sponsor_once ON co_sponsor (challenge, organisation)")
        await db.run_ddl("CREATE UNIQUE INDEX challenge_version_once ON challenge_version (challenge, version)")

    manager.add_raw(create_indexes)
    return manager
