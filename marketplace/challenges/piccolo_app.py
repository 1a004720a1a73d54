import os

from piccolo.conf.apps import AppConfig

from marketplace.challenges import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="challenges",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.Challenge, tables.ChallengeStage, tables.ChallengeVersion, tables.Question, tables.Follow,
        tables.Subscription, tables.MatchNotice, tables.CoSponsor, tables.ApprovalRound, tables.ChallengeDocument,
        tables.SearchWord, tables.SearchTrigram,
    ],
    migration_dependencies=["marketplace.accounts.piccolo_app"],
    commands=[],
)
