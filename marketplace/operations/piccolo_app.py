import os

from piccolo.conf.apps import AppConfig

from marketplace.operations import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="operations",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.WorkerHeartbeat],
    migration_dependencies=[],
    commands=[],
)
