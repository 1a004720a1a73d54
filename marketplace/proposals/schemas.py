"""Wire types of the proposals API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Id = Annotated[str, msgspec.Meta(max_length=64)]
StageKey = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: unknown fields are refused."""


class ProposalStartIn(Strict):
    company_id: Id | None = None


class AnswersIn(Strict):
    answers: dict[str, Any]


class DecisionIn(Strict):
    stage: StageKey
    outcome: Literal["advance", "reject"]
    feedback: Annotated[str, msgspec.Meta(max_length=10000)] = ""


class CompanyOut(msgspec.Struct):
    id: str
    name: str


class DecisionOut(msgspec.Struct):
    stage: str
    outcome: str
    feedback: str
    decided_at: str | None


class VersionOut(msgspec.Struct):
    version: int
    submitted_at: str | None
    sha256: str = ""  # the submission receipt: SHA-256 of the answers and the documents' own hashes


class StageOut(msgspec.Struct):
    key: str
    name: str
    status: str  # not_started / draft / submitted (the working copy is what was last submitted)
    version: int
    submitted_at: str | None
    opens_at: str | None
    closes_at: str | None
    answers: dict[str, Any]
    decision: DecisionOut | None = None
    versions: list[VersionOut] = []
    decision_kind: str = ""  # shortlist / pass_fail / award, as the template declares
    max_advancing: int | None = None  # how many may advance (None: no cap, e.g. pass_fail)
    decision_rule: str = ""  # the kind in a sentence, in the reader's language
    features: list[str] = []  # what the stage allows while it is open (questions, edits, documents, pitch)


class TimelineEntry(msgspec.Struct):
    at: str | None
    kind: str
    text: str
    stage: str | None = None
    done: bool = True


class ProposalOut(msgspec.Struct):
    id: str
    challenge_id: str
    challenge_title: str
    company: CompanyOut | None  # None for evaluators in a blind first round
    status: str
    current_stage: str
    created_at: str | None
    updated_at: str | None
    stages: list[StageOut]
    timeline: list[TimelineEntry]
    next: TimelineEntry | None


class ProposalSummaryOut(msgspec.Struct):
    id: str
    company: CompanyOut | None
    status: str
    current_stage: str
    stage: str
    version: int
    submitted_at: str | None
    decision: DecisionOut | None = None


class ProposalListOut(msgspec.Struct):
    items: list[ProposalSummaryOut]
    next_cursor: str | None


class StageCloseOut(msgspec.Struct):
    challenge_id: str
    stage: str
    status: str
    advanced: int
    rejected: int
    next_stage: str | None
