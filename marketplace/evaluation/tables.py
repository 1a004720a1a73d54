"""Evaluation: criteria per stage, evaluators, conflict-of-interest declarations and scores."""

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Invitation, User
from marketplace.challenges.tables import Challenge
from marketplace.proposals.tables import Proposal


class Criterion(Table):
    """A challenge's own criteria for a stage (when absent, the template's criteria apply)."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    stage = Varchar(length=60)
    key = Varchar(length=60)
    name = Varchar(length=200)
    description = Text(default="")
    weight = Integer()
    scale_max = Integer(default=5)
    position = Integer(default=0)
    guidance = Text(default="[]")  # JSON [[score, text], ...]: what a proposal given that score looks like


class EvaluationSetup(Table):
    """Per challenge: is the first stage evaluated blind (company identity hidden from evaluators)?"""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, unique=True)
    blind_first_round = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class EvaluatorAssignment(Table):
    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    evaluator = ForeignKey(references=User, index=True)
    assigned_by = ForeignKey(references=User, null=True)
    assigned_at = Timestamptz(default=TimestamptzNow())
    panel = Varchar(length=12, default="evaluators")  # "jury": a named expert who scores the stages whose `panel` is "jury"
    affiliation = Varchar(length=200, default="")  # a juror's own body, shown with their name (possibly another body or country)
    country = Varchar(length=2, default="")  # ISO 3166-1 alpha-2


class Declaration(Table):
    """An evaluator's conflict-of-interest declaration, required before any proposal opens."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    evaluator = ForeignKey(references=User, index=True)
    has_conflict = Boolean(default=False)
    statement = Text(default="")
    declared_at = Timestamptz(default=TimestamptzNow())


class Score(Table):
    """One evaluator's score of one proposal on one criterion, with its justification."""

    id = UUID(primary_key=True)
    proposal = ForeignKey(references=Proposal, index=True)
    stage = Varchar(length=60)
    criterion = Varchar(length=60)
    evaluator = ForeignKey(references=User, index=True)
    value = Integer()
    justification = Text()
    updated_at = Timestamptz(default=TimestamptzNow())


class JuryInvitation(Table):
    """A juror invited by e-mail who has no evaluator account yet: the account invitation (to the buyer's
    body, as an evaluator) and the jury seat it leads to, taken when they accept and come to their evaluations."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    invitation = ForeignKey(references=Invitation, index=True)
    email = Varchar(length=254, index=True)
    affiliation = Varchar(length=200, default="")
    country = Varchar(length=2, default="")
    invited_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    claimed_at = Timestamptz(null=True, default=None)
