from marketplace.payments.sandbox.delivery import deliver_sandbox_events

JOBS = [deliver_sandbox_events]
