"""Wire types of the self-checks."""

from __future__ import annotations

from typing import Annotated

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
