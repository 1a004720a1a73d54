"""An experiment runs a test contract: milestones with an amount, a due date and a deliverable;
the company's deliverables; the buyer's reviews; and the outcome with its learnings."""

from enum import Enum

from piccolo.columns import UUID, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges.tables import Challenge


class Experiment(Table):
    class Status(str, Enum):
        running = "running"
        finished = "finished"

    class Outcome(str, Enum):
        succeeded = "succeeded"
        partial = "partial"
        failed = "failed"

    class FollowOn(str, Enum):
        scale_up = "scale_up"  # a regular procurement
        new_challenge = "new_challenge"
        stop = "stop"

    id = UUID(primary_key=True)
    # The awards app's Contract; a plain column so that experiments migrate without it.
    contract_id = UUID(null=True, default=None, unique=True)
    challenge = ForeignKey(references=Challenge, null=True, index=True)
    buyer = ForeignKey(references=Organisation, index=True)
    company = ForeignKey(references=Organisation, index=True)
    title = Varchar(length=200)
    hypothesis = Text(default="")
    success_measures = Text(default="")
    status = Varchar(length=10, choices=Status, default=Status.running, index=True)
    outcome = Varchar(length=10, choices=Outcome, null=True, default=None)
    learnings = Text(default="")
    follow_on = Varchar(length=15, choices=FollowOn, null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=User, null=True)


class Milestone(Table):
    class Status(str, Enum):
        pending = "pending"  # waiting for a deliverable
        submitted = "submitted"  # waiting for the buyer's review
        changes_requested = "changes_requested"
        accepted = "accepted"  # its payout is created in the same transaction

    id = UUID(primary_key=True)
    experiment = ForeignKey(references=Experiment, index=True)
    position = Integer(default=1)
    title = Varchar(length=200)
    amount_cents = BigInt()
    currency = Varchar(length=3, default="EUR")
    due_date = Date()
    expected_deliverable = Text(default="")
    status = Varchar(length=20, choices=Status, default=Status.pending, index=True)
    award_milestone_id = UUID(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(references=User, null=True)
    overdue_flagged_at = Timestamptz(null=True, default=None)  # both parties were told once


class Deliverable(Table):
    """One submission of a milestone's work: a report and its files."""

    id = UUID(primary_key=True)
    milestone = ForeignKey(references=Milestone, index=True)
    version = Integer(default=1)
    report = Text()
    submitted_by = ForeignKey(references=User, null=True)
    submitted_at = Timestamptz(default=TimestamptzNow())


class DeliverableFile(Table):
    """A checked file, stored under the upload directory by a random name (never the user's)."""

    id = UUID(primary_key=True)
    deliverable = ForeignKey(references=Deliverable, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size = BigInt()
    sha256 = Varchar(length=64)
    storage_name = Varchar(length=80, unique=True)


class MilestoneReview(Table):
    """The buyer's decision on a submission, with its feedback (kept, never overwritten)."""

    class Decision(str, Enum):
        accept = "accept"
        request_changes = "request_changes"

    id = UUID(primary_key=True)
    milestone = ForeignKey(references=Milestone, index=True)
    deliverable = ForeignKey(references=Deliverable, null=True)
    decision = Varchar(length=20, choices=Decision)
    feedback = Text(default="")
    reviewer = ForeignKey(references=User, null=True)
    reviewed_at = Timestamptz(default=TimestamptzNow())
