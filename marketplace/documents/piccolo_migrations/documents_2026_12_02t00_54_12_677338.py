"""Room for the media types of uploaded files kept as evidence (an office document's type is 71 characters)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-02T00:54:12:677338"
VERSION = "1.38.0"
DESCRIPTION = "longer media types"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="documents", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Document",
        tablename="document",
        column_name="media_type",
        db_column_name="media_type",
        params={"length": 150},
        old_params={"length": 60},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
