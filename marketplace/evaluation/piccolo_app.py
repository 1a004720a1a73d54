import os

from piccolo.conf.apps import AppConfig

from marketplace.evaluation import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="evaluation",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.Criterion, tables.EvaluationSetup, tables.EvaluatorAssignment, tables.Declaration, tables.Score,
                   tables.JuryInvitation],
    migration_dependencies=[
        "marketplace.accounts.piccolo_app",
        "marketplace.challenges.piccolo_app",
        "marketplace.proposals.piccolo_app",
    ],
    commands=[],
)
