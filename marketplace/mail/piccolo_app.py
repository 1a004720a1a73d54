import os

from piccolo.conf.apps import AppConfig

from marketplace.mail import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="mail",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.OutboxMessage, tables.Notification],
    migration_dependencies=["marketplace.accounts.piccolo_app"],
    commands=[],
)
