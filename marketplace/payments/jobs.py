from marketplace.payments.payouts import execute_due_payouts
from marketplace.payments.sandbox.delivery import deliver_sandbox_events

JOBS = [execute_due_payouts, deliver_sandbox_events]
