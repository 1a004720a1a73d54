import os

from piccolo.conf.apps import AppConfig

from marketplace.payments import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.PaymentAccount,
        tables.StripeWebhookEvent,
        tables.Payout,
        tables.SandboxObject,
        tables.SandboxBalance,
        tables.SandboxIdempotencyKey,
        tables.SandboxAccountLink,
        tables.SandboxEvent,
    ],
    migration_dependencies=["marketplace.accounts.piccolo_app", "marketplace.experiments.piccolo_app"],
    commands=[],
)
