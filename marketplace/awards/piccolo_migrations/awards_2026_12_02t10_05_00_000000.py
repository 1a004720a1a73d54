from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T10:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "why an award has no standstill"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="awards", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Award",
        tablename="award",
        column_name="standstill_reason",
        db_column_name="standstill_reason",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 20,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
