from marketplace.evaluation.controllers import EvaluationController

ROUTES = [EvaluationController]
