from marketplace.mail.controllers import OutboxController
from marketplace.mail.pages import ROUTES as PAGES

ROUTES = [OutboxController, *PAGES]
