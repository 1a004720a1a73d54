"""Wire types of the self-checks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec


class SelfCheckIn(msgspec.Struct, forbid_unknown_fields=True):
    questionnaire: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    answers: dict[Annotated[str, msgspec.Meta(max_length=60)], Annotated[int, msgspec.Meta(ge=1, le=5)]]
    subject: Annotated[str, msgspec.Meta(max_length=200)] = ""


class DimensionScore(msgspec.Struct):
    key: str
    name: str
    score: int  # 0-100
    weak: bool


class RoadmapStep(msgspec.Struct):
    dimension: str
    dimension_name: str
    text: str
    link: str | None


class Comparison(msgspec.Struct):
    """Anonymous: the median of the latest self-check of every public body that answered (at least five)."""

    organisations: int
    median_total: int
    median: dict[str, int]


class SelfCheckOut(msgspec.Struct):
    id: str
    organisation_id: str
    questionnaire: str
    version: int
    subject: str
    answered_at: str
    total: int
    dimensions: list[DimensionScore]
    roadmap: list[RoadmapStep]
    comparison: Comparison | None
    answers: dict[str, int]


class SelfCheckPage(msgspec.Struct):
    items: list[SelfCheckOut]
    next_cursor: str | None


class QuestionOut(msgspec.Struct):
    key: str
    dimension: str
    text: str


class DimensionOut(msgspec.Struct):
    key: str
    name: str


class QuestionnaireOut(msgspec.Struct):
    id: str
    version: int
    title: str
    intro: str
    scale: list[str]  # labels of 1..5
    subject_label: str | None  # when set, each answer set names the service it is about
    dimensions: list[DimensionOut]
    questions: list[QuestionOut]


class QuestionnairePage(msgspec.Struct):
    items: list[QuestionnaireOut]
    next_cursor: str | None


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    answers: dict[Annotated[str, msgspec.Meta(max_length=60)], Annotated[int, msgspec.Meta(ge=1, le=5)]]
    comment: Annotated[str, msgspec.Meta(max_length=5000)] = ""  # what to do differently


class ReviewOut(msgspec.Struct):
    id: str
    experiment_id: str
    party: str  # "buyer" or "company"
    organisation: str
    total: int
    dimensions: list[DimensionScore]
    answers: dict[str, int]
    comment: str
    reviewed_at: str


class ReviewPage(msgspec.Struct):
    items: list[ReviewOut]
    next_cursor: str | None
    waiting_for: str | None  # the party whose review is still missing (its answers stay hidden until then)


class Authority(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class RuleChallengeIn(msgspec.Struct, forbid_unknown_fields=True):
    rule: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    safeguards: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    duration_days: Annotated[int, msgspec.Meta(ge=1, le=730)]
    authority: Authority


class RuleDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]
    decision: Literal["granted", "refused"]
    reasons: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    decided_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class RuleOutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class RuleChallengeOut(msgspec.Struct):
    id: str
    experiment_id: str
    party: str
    rule: str
    reason: str
    safeguards: str
    duration_days: int
    authority_name: str
    status: str
    decision_reasons: str
    decided_by: str
    decided_at: str | None
    outcome_note: str
    requested_at: str


class RuleChallengePage(msgspec.Struct):
    items: list[RuleChallengeOut]
    next_cursor: str | None


class PainPointCallIn(msgspec.Struct, forbid_unknown_fields=True):
    intro: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    steps: Annotated[list[Annotated[str, msgspec.Meta(max_length=120)]], msgspec.Meta(min_length=1, max_length=12)]
    closes_at: datetime


class PainPointIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=3000)]
    kind: Literal["pain_point", "idea"] = "pain_point"
    step: Annotated[str, msgspec.Meta(max_length=120)] = ""
    name: Annotated[str, msgspec.Meta(max_length=120)] = ""  # empty: anonymous
    consent_to_quote: bool = False


class HideIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class ReportBackIn(msgspec.Struct, forbid_unknown_fields=True):
    response: Literal["used", "merged", "not_taken_up"]
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""
