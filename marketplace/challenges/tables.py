"""A challenge (problem statement) and its stages, dated from its procedure template."""

from enum import Enum

from piccolo.columns import UUID, BigInt, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation, User


class Challenge(Table):
    class Status(str, Enum):
        draft = "draft"
        scheduled = "scheduled"  # approved, to be published at publish_at
        published = "published"  # open: its stages run
        awarded = "awarded"
        closed = "closed"  # closed without award
        archived = "archived"

    id = UUID(primary_key=True)
    buyer = ForeignKey(references=Organisation, index=True)
    created_by = ForeignKey(references=User, null=True)
    status = Varchar(length=12, choices=Status, default=Status.draft, index=True)
    version = Integer(default=1)
    title = Varchar(length=200, default="")
    summary = Text(default="")
    problem = Text(default="")
    affected_users = Text(default="")
    tried_before = Text(default="")
    desired_outcomes = Text(default="")
    constraints = Text(default="")
    topics = Text(default="[]")  # JSON list of strings
    cpv_codes = Text(default="[]")  # JSON list of CPV codes, e.g. "72212000-4"
    budget_cap_cents = BigInt(default=3_000_000)
    currency = Varchar(length=3, default="EUR")
    max_duration_days = Integer(default=90)
    procedure_template = Varchar(length=60, default="light")
    procedure_version = Integer(default=1)
    current_stage = Varchar(length=60, null=True, default=None)
    qa_closes_at = Timestamptz(null=True, default=None)
    publish_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None, index=True)
    approved_by = ForeignKey(references=User, null=True)
    approval_requested_at = Timestamptz(null=True, default=None)  # a civil servant asked the officers to approve the draft
    approval_requested_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    schedule = Text(default="{}")  # JSON {stage key: closes_at} set explicitly on the draft


class ChallengeStage(Table):
    class Status(str, Enum):
        pending = "pending"  # not open yet
        open = "open"  # accepting submissions until closes_at
        evaluation = "evaluation"  # deadline passed: sealed proposals open to the buyer team
        decided = "decided"  # every proposal has its decision and feedback

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    key = Varchar(length=60)
    position = Integer()
    opens_at = Timestamptz()
    closes_at = Timestamptz(index=True)
    status = Varchar(length=12, choices=Status, default=Status.pending)
    decided_at = Timestamptz(null=True, default=None)


class ChallengeVersion(Table):
    """One published version of a challenge: version 1 at publication, one more per amendment."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    version = Integer()
    snapshot = Text()  # JSON of the public fields as they were in this version
    change_note = Text(default="")
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Question(Table):
    """A question asked during the dialogue; public once answered, the asker known only to the buyer team."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    asked_by = ForeignKey(references=User, null=True)
    asker_organisation = ForeignKey(references=Organisation, null=True)
    text = Text()
    asked_at = Timestamptz(default=TimestamptzNow(), index=True)
    answer = Text(null=True, default=None)
    answered_by = ForeignKey(references=User, null=True)
    answered_at = Timestamptz(null=True, default=None)


class Follow(Table):
    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    user = ForeignKey(references=User, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Subscription(Table):
    """What a member wants to hear about: topics, CPV prefixes and keywords (JSON lists), or a catalogue search
    they saved (`search`: JSON {q, topic, cpv, min_budget, max_budget}, every part of it must match)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    topics = Text(default="[]")
    cpv_prefixes = Text(default="[]")
    keywords = Text(default="[]")
    search = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MatchNotice(Table):
    """A subscriber was told about a matching challenge (once); `emailed_at` once in a digest."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    challenge = ForeignKey(references=Challenge, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    emailed_at = Timestamptz(null=True, default=None, index=True)


class CoSponsor(Table):
    """Another public body declares "we have this problem too"."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    declared_by = ForeignKey(references=User, null=True)
    statement = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ApprovalRound(Table):
    """One request for approval of a draft and what the procurement officer made of it: published, or
    sent back with comments (per field and overall). `snapshot` is the draft as it was asked for, so
    the officer sees what changed since the previous round."""

    class Outcome(str, Enum):
        pending = "pending"
        sent_back = "sent_back"
        published = "published"

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    requested_by = ForeignKey(references=User, null=True)
    requested_at = Timestamptz(default=TimestamptzNow())
    snapshot = Text(default="{}")
    outcome = Varchar(length=10, choices=Outcome, default=Outcome.pending, index=True)
    decided_by = ForeignKey(references=User, null=True)
    decided_at = Timestamptz(null=True, default=None)
    comments = Text(default="[]")  # JSON [{field, text}], field "" for the whole draft


class ChallengeDocument(Table):
    """One version of a document the buyer team attached to a challenge (an annex, a data sample, a
    regulation). The versions of one document share `series`; a new version supersedes the previous one,
    which stays listed (and downloadable) with `superseded_at`. The bytes are stored once per SHA-256 by
    the documents domain: `stored` is that `Document` row's id."""

    id = UUID(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    series = UUID(index=True)
    version = Integer(default=1)
    title = Varchar(length=200)
    filename = Varchar(length=160)
    content_type = Varchar(length=120)
    size_bytes = BigInt(default=0)
    sha256 = Varchar(length=64)
    stored = UUID()
    challenge_version = Integer(null=True, default=None)  # the amendment that published it; None: added to the draft
    uploaded_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    superseded_at = Timestamptz(null=True, default=None)


class SearchWord(Table):
    """A word of the public challenges' text: the catalogue's vocabulary, for forgiving typos ("did you mean").
    Derived data, kept by `search_index.learn_words` and rebuilt by `marketplace search rebuild`."""

    word = Varchar(length=40, primary_key=True)
    uses = Integer(default=1)  # about how many public challenges use it (ranks equally similar words)


class SearchTrigram(Table):
    """The trigrams of each vocabulary word (`size`: how many the word has), so that the words most similar to a
    mistyped one are found by an index on both databases (the same measure as PostgreSQL's pg_trgm)."""

    trigram = Varchar(length=3)
    size = Integer()
    word = Varchar(length=40)
