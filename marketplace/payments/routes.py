from marketplace.payments.controllers import PaymentAccountController, PayoutController, WebhookController
from marketplace.payments.sandbox.api import ROUTES as SANDBOX_ROUTES

ROUTES = [PaymentAccountController, PayoutController, WebhookController, *SANDBOX_ROUTES]
