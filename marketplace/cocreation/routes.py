from marketplace.cocreation.controllers import ReadinessController
from marketplace.cocreation.pages import ROUTES as PAGES

ROUTES = [ReadinessController, *PAGES]
