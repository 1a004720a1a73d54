import os

from piccolo.conf.apps import AppConfig

from marketplace.cocreation import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="cocreation",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.SelfCheck, tables.ExperimentReview, tables.RuleChallenge, tables.PainPointCall, tables.PainPoint,
                   tables.PainPointSupport],
    migration_dependencies=["marketplace.accounts.piccolo_app"],
    commands=[],
)
