"""Staged proposals: a company's answer to a challenge, stage by stage, with every submitted version kept."""

from enum import Enum

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges.tables import Challenge


class Proposal(Table):
    class Status(str, Enum):
        draft = "draft"  # started; the current stage is not submitted yet
        submitted = "submitted"  # the current stage is submitted (and may be resubmitted until its deadline)
        advanced = "advanced"  # passed a stage; drafting the next one
        rejected = "rejected"
        withdrawn = "withdrawn"
        selected = "selected"  # advanced at a stage decided by "award": ready to be awarded
        awarded = "awarded"  # the contracts domain awarded it

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    company = ForeignKey(references=Organisation, index=True)
    incubator = ForeignKey(references=Organisation, null=True)  # set when an incubator started it for the company
    created_by = ForeignKey(references=User, null=True)
    status = Varchar(length=12, choices=Status, default=Status.draft, index=True)
    current_stage = Varchar(length=60)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    withdrawn_at = Timestamptz(null=True, default=None)


class ProposalStage(Table):
    """The answers of one proposal at one stage: the working copy (draft or last submitted)."""

    class Status(str, Enum):
        draft = "draft"
        submitted = "submitted"

    id = UUID(primary_key=True)
    proposal = ForeignKey(references=Proposal, index=True)
    stage = Varchar(length=60)
    answers = Text(default="{}")  # JSON object, field key -> value
    status = Varchar(length=10, choices=Status, default=Status.draft)
    version = Integer(default=0)  # how many times it was submitted
    submitted_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(references=User, null=True)


class ProposalStageVersion(Table):
    """Every submission, kept as it was sent."""

    id = UUID(primary_key=True)
    proposal_stage = ForeignKey(references=ProposalStage, index=True)
    version = Integer()
    answers = Text(default="{}")
    submitted_at = Timestamptz(default=TimestamptzNow())
    submitted_by = ForeignKey(references=User, null=True)
    sha256 = Varchar(length=64, default="")  # of the receipt's canonical content: answers and documents' hashes


class Decision(Table):
    """The buyer's decision on a proposal at one stage, always with written feedback."""

    class Outcome(str, Enum):
        advance = "advance"
        reject = "reject"

    id = UUID(primary_key=True)
    proposal = ForeignKey(references=Proposal, index=True)
    stage = Varchar(length=60)
    outcome = Varchar(length=10, choices=Outcome)
    feedback = Text()
    decided_by = ForeignKey(references=User, null=True)
    decided_at = Timestamptz(default=TimestamptzNow())
    notified_at = Timestamptz(null=True, default=None)  # when the company was told (at stage close)


class ProposalAttachment(Table):
    """A document uploaded for one stage's declared document key. Rows are kept (submitted versions
    keep theirs); the newest upload of a key is the `latest` one."""

    id = UUID(primary_key=True)
    proposal = ForeignKey(references=Proposal, index=True)
    stage = Varchar(length=60)
    document = Varchar(length=60)
    filename = Varchar(length=200)
    content_type = Varchar(length=120)
    size = Integer()
    sha256 = Varchar(length=64)
    stored_name = Varchar(length=64)  # random name in the file storage's folder "proposals" (marketplace.files)
    latest = Boolean(default=True, index=True)
    uploaded_by = ForeignKey(references=User, null=True)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class PitchSlot(Table):
    """A pitch slot the buyer proposes at a stage that declares `pitch`; one team picks it (at most one
    slot per proposal and stage: a unique index in a migration)."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    stage = Varchar(length=60)
    starts_at = Timestamptz()
    minutes = Integer(default=20)
    timezone = Varchar(length=64, default="Europe/Brussels")  # the buyer's: times are shown in it, with its name
    location = Text(default="")  # a room, an address or a video-call link
    proposal = ForeignKey(references=Proposal, null=True, default=None, index=True)
    chosen_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ProposalMember(Table):
    """A named member of a proposal's team, at stages that declare `team` (a mixed team: people from a
    university, civil society or a public body next to the company). The list is replaced as a whole."""

    class Kind(str, Enum):
        company = "company"
        university = "university"
        civil_society = "civil_society"
        public_body = "public_body"

    id = UUID(primary_key=True)
    proposal = ForeignKey(references=Proposal, index=True)
    position = Integer(default=0)
    name = Varchar(length=200)
    organisation = Varchar(length=200)
    kind = Varchar(length=20, choices=Kind)
    country = Varchar(length=2, default="BE")  # ISO 3166-1 alpha-2
    updated_at = Timestamptz(default=TimestamptzNow())
