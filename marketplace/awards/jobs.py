"""Background work: issue each contract whose standstill ended with no open objection."""

from marketplace.awards.contracts import issue_due_contracts

JOBS = [issue_due_contracts]
