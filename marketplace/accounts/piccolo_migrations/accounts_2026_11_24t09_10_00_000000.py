"""Composite unique indexes (portable to SQLite, unlike Piccolo's table-level constraints)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-24T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes"

STATEMENTS = (
    'CREATE UNIQUE INDEX membership_user_org_role ON membership ("user", organisation, role)',
    "CREATE UNIQUE INDEX portfolio_link_pair ON portfolio_link (incubator, company)",
    "CREATE INDEX login_attempt_ip_at ON login_attempt (ip_address, at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create_indexes():
        from marketplace.core.db import engine

        for sql in STATEMENTS:
            await engine().run_ddl(sql)

    manager.add_raw(create_indexes)
    return manager
