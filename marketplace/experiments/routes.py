from marketplace.experiments.controllers import ExperimentController

ROUTES = [ExperimentController]
