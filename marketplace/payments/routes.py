from marketplace.payments.sandbox.api import ROUTES as SANDBOX_ROUTES

ROUTES = [*SANDBOX_ROUTES]
