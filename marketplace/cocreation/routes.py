from marketplace.cocreation.controllers import (
    ExperimentCoCreationController,
    PainPointController,
    ReadinessController,
)
from marketplace.cocreation.pages import ROUTES as PAGES

ROUTES = [ReadinessController, ExperimentCoCreationController, PainPointController, *PAGES]
