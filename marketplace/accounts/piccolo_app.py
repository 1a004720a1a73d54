import os

from piccolo.conf.apps import AppConfig

from marketplace.accounts import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.Organisation,
        tables.User,
        tables.Membership,
        tables.ApiToken,
        tables.WebSession,
        tables.Invitation,
        tables.PortfolioLink,
        tables.LoginAttempt,
        tables.EmailLink,
    ],
    migration_dependencies=[],
    commands=[],
)
