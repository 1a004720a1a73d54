"""Self-checks of public bodies (every answered questionnaire is kept, so progress shows over time),
reviews of how an experiment's co-creation went, and requests for a right to challenge a rule."""

from enum import Enum

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
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


class PainPointCall(Table):
    """A public call, while a problem statement is drafted, for where a service fails its users along
    the steps of their journey, and for ideas (Co-New; crowdsourcing). One per challenge."""

    id = UUID(primary_key=True)
    challenge = UUID(unique=True)
    intro = Text()
    steps = Text(default="[]")  # JSON list of the user journey's step names, in order
    opened_by = ForeignKey(references=User, null=True)
    opened_at = Timestamptz(default=TimestamptzNow())
    closes_at = Timestamptz()


class PainPoint(Table):
    """An entry of a call: a pain point at a step, or an idea. Hidden entries are kept for the record."""

    class Kind(str, Enum):
        pain_point = "pain_point"
        idea = "idea"

    class Response(str, Enum):
        used = "used"
        merged = "merged"
        not_taken_up = "not_taken_up"

    id = UUID(primary_key=True)
    call_id = UUID(index=True)  # the PainPointCall (not "call": its index would be named like that table)
    kind = Varchar(length=12, choices=Kind, default=Kind.pain_point)
    step = Varchar(length=120, default="")
    text = Text()
    author_name = Varchar(length=120, default="")  # empty: anonymous
    author = ForeignKey(references=User, null=True)
    consent_to_quote = Boolean(default=False)
    source = Varchar(length=64, default="")  # a keyed hash of the sender's address, for rate limits only
    supports = Integer(default=0)
    hidden = Boolean(default=False)
    hidden_reason = Text(default="")
    response = Varchar(length=14, choices=Response, null=True, default=None)  # the buyer's report back
    response_reason = Text(default="")
    quoted = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class PainPointSupport(Table):
    """Someone supports an entry once (unique entry + supporter)."""

    id = UUID(primary_key=True)
    pain_point = UUID(index=True)  # the PainPoint
    supporter = Varchar(length=64)  # a user id, or a keyed hash of the sender's address
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
