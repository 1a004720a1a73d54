"""Wire types of the evaluation API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from marketplace.procedures.schemas import ScoreGuidance

Key = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern="^[a-z0-9_]+$")]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Request bodies: unknown fields are refused."""


class GuidanceIn(Strict):
    score: int
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class CriterionIn(Strict):
    key: Key
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    stage: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    weight: int
    scale_max: int = 5
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    guidance: Annotated[list[GuidanceIn], msgspec.Meta(max_length=101)] = msgspec.field(default_factory=list)  # what a score looks like


class CriterionOut(msgspec.Struct):
    key: str
    name: str
    stage: str
    weight: int
    scale_max: int
    description: str
    guidance: list[ScoreGuidance] = msgspec.field(default_factory=list)  # for some or all scores, lowest first


class SetupIn(Strict):
    blind_first_round: bool


class SetupOut(msgspec.Struct):
    challenge_id: str
    blind_first_round: bool


class EvaluatorIn(Strict):
    user_id: Annotated[str, msgspec.Meta(max_length=64)]


class EvaluatorOut(msgspec.Struct):
    user_id: str
    name: str
    declared: bool
    has_conflict: bool
    assigned_at: str | None


class DeclarationIn(Strict):
    has_conflict: bool
    statement: Annotated[str, msgspec.Meta(max_length=5000)] = ""


class DeclarationOut(msgspec.Struct):
    challenge_id: str
    has_conflict: bool
    statement: str
    declared_at: str | None


class ScoreIn(Strict):
    criterion: Annotated[str, msgspec.Meta(max_length=60)]
    value: int
    justification: Annotated[str, msgspec.Meta(max_length=5000)] = ""


class ScoresIn(Strict):
    stage: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    scores: list[ScoreIn]


class ScoreOut(msgspec.Struct):
    criterion: str
    value: int
    justification: str


class ScoresOut(msgspec.Struct):
    proposal_id: str
    stage: str
    scores: list[ScoreOut]
    complete: bool


class ProgressOut(msgspec.Struct):
    user_id: str
    name: str
    declared: bool
    has_conflict: bool
    proposals_total: int | None  # None while the stage is sealed: not even the number of submissions shows
    proposals_scored: int | None
    sealed: bool = False


class CriterionMean(msgspec.Struct):
    criterion: str
    mean: float | None


class RankingItem(msgspec.Struct):
    rank: int
    proposal_id: str
    company: str
    weighted_total: float  # 0..100: criteria means over their scale, weighted
    spread: float  # highest minus lowest evaluator total (0..100 points)
    evaluators: int
    complete: bool
    criteria: list[CriterionMean]
    decision: str | None


class RankingOut(msgspec.Struct):
    challenge_id: str
    stage: str
    criteria: list[CriterionOut]
    items: list[RankingItem]
