import os

from piccolo.conf.apps import AppConfig

from marketplace.experiments import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="experiments",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.Experiment, tables.Milestone, tables.Deliverable, tables.DeliverableFile, tables.MilestoneReview],
    migration_dependencies=["marketplace.accounts.piccolo_app", "marketplace.challenges.piccolo_app", "marketplace.awards.piccolo_app"],
    commands=[],
)
