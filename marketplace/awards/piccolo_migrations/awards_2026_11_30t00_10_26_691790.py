from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-11-30T00:10:26:691790"
VERSION = "1.38.0"
DESCRIPTION = "cancelled awards and contracts, upheld objections (choices only)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="awards", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Award",
        tablename="award",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "Status",
                {
                    "standstill": "standstill",
                    "contracted": "contracted",
                    "cancelled": "cancelled",
                },
            )
        },
        old_params={
            "choices": Enum(
                "Status", {"standstill": "standstill", "contracted": "contracted"}
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Objection",
        tablename="objection",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "Status",
                {"open": "open", "answered": "answered", "upheld": "upheld"},
            )
        },
        old_params={
            "choices": Enum("Status", {"open": "open", "answered": "answered"})
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Contract",
        tablename="contract",
        column_name="status",
        db_column_name="status",
        params={
            "choices": Enum(
                "Status",
                {
                    "draft": "draft",
                    "issued": "issued",
                    "active": "active",
                    "cancelled": "cancelled",
                },
            )
        },
        old_params={
            "choices": Enum(
                "Status",
                {"draft": "draft", "issued": "issued", "active": "active"},
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
