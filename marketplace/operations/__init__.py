"""What operators watch: readiness (`/readyz`), Prometheus metrics (`/metrics`) and the worker's heartbeat."""
