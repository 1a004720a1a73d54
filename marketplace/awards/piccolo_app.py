import os

from piccolo.conf.apps import AppConfig

from marketplace.awards import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="awards",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.Award, tables.AwardMilestone, tables.Objection, tables.Contract, tables.ContractNumber, tables.Signature],
    migration_dependencies=[
        "marketplace.accounts.piccolo_app",
        "marketplace.challenges.piccolo_app",
        "marketplace.proposals.piccolo_app",
        "marketplace.documents.piccolo_app",
    ],
    commands=[],
)
