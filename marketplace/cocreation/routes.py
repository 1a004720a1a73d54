from marketplace.cocreation.controllers import ExperimentCoCreationController, ReadinessController
from marketplace.cocreation.pages import ROUTES as PAGES

ROUTES = [ReadinessController, ExperimentCoCreationController, *PAGES]
