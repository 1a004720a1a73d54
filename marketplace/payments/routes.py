from marketplace.payments.controllers import PaymentAccountController, WebhookController
from marketplace.payments.sandbox.api import ROUTES as SANDBOX_ROUTES

ROUTES = [PaymentAccountController, WebhookController, *SANDBOX_ROUTES]
