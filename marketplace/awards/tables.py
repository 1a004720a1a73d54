"""Awards (with milestones), the standstill's objections, test contracts and their signatures."""

from enum import Enum

from piccolo.columns import UUID, BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges.tables import Challenge
from marketplace.documents.tables import Document
from marketplace.proposals.tables import Proposal


class Award(Table):
    """A procurement officer's award of one selected proposal, within the challenge's budget cap."""

    class Status(str, Enum):
        standstill = "standstill"  # rejected bidders may object until standstill_ends_at
        contracted = "contracted"  # the standstill ended with no open objection: the contract is issued
        cancelled = "cancelled"  # an objection was upheld: no contract; the proposal is selected again

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    proposal = ForeignKey(references=Proposal, index=True)  # once per (proposal, stage): a phase contract, then the final one
    stage = Varchar(length=64, default="")  # the stage whose selection this award contracts ("": the last stage)
    company = ForeignKey(references=Organisation, index=True)
    buyer = ForeignKey(references=Organisation, index=True)
    amount_cents = BigInt()
    currency = Varchar(length=3, default="EUR")
    language = Varchar(length=5, default="en")  # the contract's language
    status = Varchar(length=12, choices=Status, default=Status.standstill, index=True)
    awarded_by = ForeignKey(references=User, null=True)
    awarded_at = Timestamptz(default=TimestamptzNow())
    standstill_ends_at = Timestamptz(index=True)  # the award's own moment when there is no standstill
    standstill_reason = Varchar(length=20, default="")  # "": the standstill runs; else why not (awards.standstill)
    starts_on = Date()  # the experiment's planned first day (the day after the standstill)


class AwardMilestone(Table):
    id = UUID(primary_key=True)
    award = ForeignKey(references=Award, index=True)
    position = Integer()
    title = Varchar(length=200)
    amount_cents = BigInt()
    due_date = Date()
    deliverable = Text()


class Objection(Table):
    """A rejected bidder's written objection during the standstill, and the buyer's answer."""

    class Status(str, Enum):
        open = "open"
        answered = "answered"
        upheld = "upheld"  # answered and found right: the award is cancelled

    id = UUID(primary_key=True)
    award = ForeignKey(references=Award, index=True)
    company = ForeignKey(references=Organisation, index=True)
    raised_by = ForeignKey(references=User, null=True)
    text = Text()
    status = Varchar(length=10, choices=Status, default=Status.open, index=True)
    raised_at = Timestamptz(default=TimestamptzNow())
    answer = Text(default="")
    answered_by = ForeignKey(references=User, null=True)
    answered_at = Timestamptz(null=True, default=None)


class Contract(Table):
    class Status(str, Enum):
        draft = "draft"  # awarded, waiting for the standstill to end
        issued = "issued"  # the document exists; waiting for both signatures
        active = "active"  # both parties signed; the experiment runs
        cancelled = "cancelled"  # its award was cancelled (an upheld objection) before it was issued

    id = UUID(primary_key=True)
    award = ForeignKey(references=Award, unique=True)
    challenge = ForeignKey(references=Challenge, index=True)
    buyer = ForeignKey(references=Organisation, index=True)
    company = ForeignKey(references=Organisation, index=True)
    number = Varchar(length=30, unique=True)
    status = Varchar(length=10, choices=Status, default=Status.draft, index=True)
    language = Varchar(length=5, default="en")
    document = ForeignKey(references=Document, null=True)  # the version that is signed
    document_sha256 = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    issued_at = Timestamptz(null=True, default=None)
    activated_at = Timestamptz(null=True, default=None)
    experiment_id = UUID(null=True, default=None, index=True)  # set by the experiments domain when it starts


class ContractNumber(Table):
    """The last contract number given out per year: taken with an update inside the award's transaction,
    so two simultaneous awards wait for each other instead of taking the same number."""

    year = Integer(primary_key=True)
    last = Integer(default=0)


class Signature(Table):
    """Who signed which document (by SHA-256), for which party, when and from where."""

    class Party(str, Enum):
        buyer = "buyer"
        company = "company"

    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    party = Varchar(length=10, choices=Party)
    organisation = ForeignKey(references=Organisation)
    user = ForeignKey(references=User)
    signer_name = Varchar(length=200)
    signed_at = Timestamptz(default=TimestamptzNow())
    ip_address = Varchar(length=64, default="")
    document = ForeignKey(references=Document)
    document_sha256 = Varchar(length=64)
