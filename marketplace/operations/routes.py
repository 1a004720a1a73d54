from marketplace.operations.controllers import prometheus_metrics, ready

ROUTES = [ready, prometheus_metrics]
