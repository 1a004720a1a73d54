from marketplace.payments.controllers import PaymentAccountController, PayoutController, WebhookController
from marketplace.payments.pages import ROUTES as PAGES
from marketplace.payments.sandbox.api import ROUTES as SANDBOX_ROUTES

ROUTES = [PaymentAccountController, PayoutController, WebhookController, *PAGES, *SANDBOX_ROUTES]
