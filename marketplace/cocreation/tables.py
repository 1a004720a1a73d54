"""Self-checks of public bodies (every answered questionnaire is kept, so progress shows over time),
reviews of how an experiment's co-creation went, and requests for a right to challenge a rule."""

from enum import Enum

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation, User


class SelfCheck(Table):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    questionnaire = Varchar(length=40, index=True)
    version = Integer(default=1)
    subject = Varchar(length=200, default="")  # the candidate service (the service questionnaire)
    answers = Text(default="{}")  # JSON {question key: 1-5}
    scores = Text(default="{}")  # JSON {dimension key: 0-100}
    total = Integer(default=0)
    answered_by = ForeignKey(references=User, null=True)
    answered_at = Timestamptz(default=TimestamptzNow(), index=True)


class ExperimentReview(Table):
    """How the co-creation went, one per party of a finished experiment (unique experiment + party)."""

    id = UUID(primary_key=True)
    experiment = UUID(index=True)
    party = Varchar(length=10)  # "buyer" or "company"
    organisation = ForeignKey(references=Organisation)
    answers = Text(default="{}")  # JSON {question key: 1-5}
    scores = Text(default="{}")  # JSON {dimension key: 0-100}
    total = Integer(default=0)
    comment = Text(default="")  # what to do differently
    reviewed_by = ForeignKey(references=User, null=True)
    reviewed_at = Timestamptz(default=TimestamptzNow())


class RuleChallenge(Table):
    """A request to set a named rule aside for an experiment, decided by a named authority with reasons."""

    class Status(str, Enum):
        requested = "requested"
        granted = "granted"
        refused = "refused"

    id = UUID(primary_key=True)
    experiment = UUID(index=True)
    party = Varchar(length=10)  # who asked: "buyer" or "company"
    requested_by = ForeignKey(references=User, null=True)
    rule = Text()
    reason = Text()  # why it blocks the test
    safeguards = Text()  # what replaces it meanwhile
    duration_days = Integer()
    authority_name = Varchar(length=200)
    authority_email = Varchar(length=254)
    token_hash = Varchar(length=64, unique=True)  # the authority's single-use decision link
    status = Varchar(length=10, choices=Status, default=Status.requested, index=True)
    decision_reasons = Text(default="")
    decided_by = Varchar(length=200, default="")
    decided_at = Timestamptz(null=True, default=None)
    outcome_note = Text(default="")  # what came of it, once the experiment ended
    requested_at = Timestamptz(default=TimestamptzNow())
