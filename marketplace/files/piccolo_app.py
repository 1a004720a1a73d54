import os

from piccolo.conf.apps import AppConfig

from marketplace.files import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="files",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.StoredFile],
    migration_dependencies=[],
    commands=[],
)
