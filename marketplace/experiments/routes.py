from marketplace.experiments.controllers import ExperimentController
from marketplace.experiments.pages import ROUTES as PAGES

ROUTES = [ExperimentController, *PAGES]
