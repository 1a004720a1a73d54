"""Wire types of the challenges API (problem statements, catalogue, dialogue, matchmaking)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from marketplace.core.money import Money

ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=20_000)]
Tag = Annotated[str, msgspec.Meta(max_length=60)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]
CpvCodes = Annotated[list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=20)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Note = Annotated[str, msgspec.Meta(max_length=5_000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are refused."""


class ProcedureIn(Strict):
    template: Annotated[str, msgspec.Meta(max_length=60)]


class ScheduleItem(Strict):
    stage: Annotated[str, msgspec.Meta(max_length=60)]
    closes_at: datetime


class ChallengeIn(Strict):
    """A new draft. Everything may be left empty: publication checks completeness."""

    title: ShortText = ""
    summary: LongText = ""
    problem: LongText = ""
    affected_users: LongText = ""
    tried_before: LongText = ""
    desired_outcomes: LongText = ""
    constraints: LongText = ""
    topics: Tags = msgspec.field(default_factory=list)
    cpv_codes: CpvCodes = msgspec.field(default_factory=list)
    budget_cap: Money | None = None
    max_duration_days: Days | None = None
    procedure: ProcedureIn | None = None
    schedule: Annotated[list[ScheduleItem], msgspec.Meta(max_length=20)] | None = None
    qa_closes_at: datetime | None = None
    buyer_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class ChallengePatch(Strict):
    """Edit a draft; on a published challenge an amendment, which needs `change_note`."""

    title: ShortText | msgspec.UnsetType = msgspec.UNSET
    summary: LongText | msgspec.UnsetType = msgspec.UNSET
    problem: LongText | msgspec.UnsetType = msgspec.UNSET
    affected_users: LongText | msgspec.UnsetType = msgspec.UNSET
    tried_before: LongText | msgspec.UnsetType = msgspec.UNSET
    desired_outcomes: LongText | msgspec.UnsetType = msgspec.UNSET
    constraints: LongText | msgspec.UnsetType = msgspec.UNSET
    topics: Tags | msgspec.UnsetType = msgspec.UNSET
    cpv_codes: CpvCodes | msgspec.UnsetType = msgspec.UNSET
    budget_cap: Money | msgspec.UnsetType = msgspec.UNSET
    max_duration_days: Days | msgspec.UnsetType = msgspec.UNSET
    procedure: ProcedureIn | msgspec.UnsetType = msgspec.UNSET
    schedule: Annotated[list[ScheduleItem], msgspec.Meta(max_length=20)] | msgspec.UnsetType = msgspec.UNSET
    qa_closes_at: datetime | None | msgspec.UnsetType = msgspec.UNSET
    change_note: Note | msgspec.UnsetType = msgspec.UNSET


class PublishIn(Strict):
    publish_at: datetime | None = None


class ReviewComment(Strict):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    field: Annotated[str, msgspec.Meta(max_length=60)] | None = None  # a field of the challenge, or the whole draft


class SendBackIn(Strict):
    comments: Annotated[list[ReviewComment], msgspec.Meta(min_length=1, max_length=50)]


class ApprovalOut(msgspec.Struct):
    """Where a draft's approval stands: none, pending (with the changes since it was last sent back),
    sent_back (with the officer's comments) or published."""

    state: str
    requested_at: str | None
    requested_by: str | None
    decided_at: str | None
    decided_by: str | None
    comments: list[dict[str, str]]
    changes: list[str]  # fields changed since the draft was last sent back


class CloseIn(Strict):
    reason: Note


class BuyerOut(msgspec.Struct):
    id: str
    name: str


class ProcedureOut(msgspec.Struct):
    template: str
    version: int


class StageOut(msgspec.Struct):
    key: str
    name: str
    position: int
    status: str
    opens_at: str
    closes_at: str
    asks: list[str]  # labels of the fields the stage asks for


class ScheduleOut(msgspec.Struct):
    stage: str
    closes_at: str


class CoSponsorOut(msgspec.Struct):
    organisation: BuyerOut
    statement: str
    since: str


class ChallengeOut(msgspec.Struct):
    id: str
    status: str
    version: int
    title: str
    summary: str
    problem: str
    affected_users: str
    tried_before: str
    desired_outcomes: str
    constraints: str
    topics: list[str]
    cpv_codes: list[str]
    budget_cap: Money
    max_duration_days: int
    procedure: ProcedureOut
    buyer: BuyerOut
    current_stage: str | None
    qa_closes_at: str | None
    publish_at: str | None
    published_at: str | None
    stages: list[StageOut]
    schedule: list[ScheduleOut]
    co_sponsors: list[CoSponsorOut]
    created_at: str
    updated_at: str


class ChallengeSummary(msgspec.Struct):
    """A catalogue entry."""

    id: str
    status: str
    title: str
    summary: str
    topics: list[str]
    cpv_codes: list[str]
    budget_cap: Money
    buyer: BuyerOut
    current_stage: str | None
    closes_at: str | None  # when the current (or next) stage closes
    published_at: str | None


class ChallengePage(msgspec.Struct):
    items: list[ChallengeSummary]
    next_cursor: str | None
    did_you_mean: Annotated[str | None, msgspec.Meta(description=(
        "A query to offer: `q` with each word no public challenge uses replaced by the most similar word one does "
        "(trigram similarity); given when `q` found fewer than three challenges and this finds more."))] = None
    similar: Annotated[bool, msgspec.Meta(description=(
        "True when `q` itself found nothing and `items` are the challenges containing words similar to its unknown "
        "words; `next_cursor` continues that list."))] = False


class VersionOut(msgspec.Struct):
    version: int
    change_note: str
    created_at: str
    snapshot: dict


class VersionList(msgspec.Struct):
    items: list[VersionOut]
    next_cursor: str | None = None


class QuestionIn(Strict):
    text: Annotated[str, msgspec.Meta(max_length=4_000)]


class AnswerIn(Strict):
    text: Annotated[str, msgspec.Meta(max_length=10_000)]


class AskerOut(msgspec.Struct):
    """Only ever shown to the buyer team."""

    user_id: str | None
    name: str | None
    organisation: str | None


class QuestionOut(msgspec.Struct):
    id: str
    challenge_id: str
    text: str
    asked_at: str
    answer: str | None
    answered_at: str | None
    asker: AskerOut | None = None


class QuestionList(msgspec.Struct):
    items: list[QuestionOut]
    next_cursor: str | None = None


class FollowOut(msgspec.Struct):
    challenge_id: str
    following: bool


Cents = Annotated[int, msgspec.Meta(ge=0, le=2**53)]


class SavedSearch(Strict):
    """A catalogue search kept as an alert: the parameters of `GET /api/v1/challenges` that choose challenges
    (budgets in cents). A new challenge matches when it matches all of them, as the catalogue would list it."""

    q: Annotated[str, msgspec.Meta(max_length=200)] = ""
    topic: Annotated[str, msgspec.Meta(max_length=60)] = ""
    cpv: Annotated[str, msgspec.Meta(max_length=8)] = ""
    min_budget: Cents | None = None
    max_budget: Cents | None = None


class SubscriptionIn(Strict):
    """Any of `topics`, `cpv_prefixes` and `keywords`; or a saved catalogue `search` (all of its parts)."""

    topics: Tags = msgspec.field(default_factory=list)
    cpv_prefixes: Annotated[list[Annotated[str, msgspec.Meta(max_length=8)]], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    keywords: Tags = msgspec.field(default_factory=list)
    search: SavedSearch | None = None


class SubscriptionOut(msgspec.Struct):
    id: str
    topics: list[str]
    cpv_prefixes: list[str]
    keywords: list[str]
    created_at: str
    search: SavedSearch | None = None
    catalogue_url: str | None = None  # the catalogue page of a saved search (relative)


class SubscriptionList(msgspec.Struct):
    items: list[SubscriptionOut]
    next_cursor: str | None = None


class CoSponsorIn(Strict):
    statement: Note = ""
    organisation_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class ChallengeDocumentOut(msgspec.Struct):
    """One version of a document attached to a challenge. `document_id` is the same for every version of
    the document; `current` is false once a newer version supersedes this one (it stays downloadable)."""

    id: str
    document_id: str
    challenge_id: str
    version: int
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: str
    current: bool
    superseded_at: str | None
    challenge_version: int | None  # the amendment that published it; None: attached before publication
    url: str


class ChallengeDocumentList(msgspec.Struct):
    items: list[ChallengeDocumentOut]
    next_cursor: str | None = None
