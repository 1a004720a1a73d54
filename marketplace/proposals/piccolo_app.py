import os

from piccolo.conf.apps import AppConfig

from marketplace.proposals import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="proposals",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.Proposal, tables.ProposalStage, tables.ProposalStageVersion, tables.Decision,
                   tables.ProposalAttachment, tables.PitchSlot, tables.ProposalMember],
    migration_dependencies=["marketplace.accounts.piccolo_app", "marketplace.challenges.piccolo_app"],
    commands=[],
)
