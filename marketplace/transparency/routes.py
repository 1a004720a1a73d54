from marketplace.transparency.controllers import OutcomesController
from marketplace.transparency.pages import ROUTES as PAGES

ROUTES = [OutcomesController, *PAGES]
