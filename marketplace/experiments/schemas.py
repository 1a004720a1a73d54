"""Wire types of the experiments API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from marketplace.core.money import Money
from marketplace.payments.schemas import PayoutOut


class Party(msgspec.Struct):
    id: str
    name: str


class FileOut(msgspec.Struct):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str


class DeliverableOut(msgspec.Struct):
    id: str
    version: int
    report: str
    submitted_at: str
    files: list[FileOut]


class ReviewOut(msgspec.Struct):
    decision: str
    feedback: str
    reviewed_at: str


class MilestoneOut(msgspec.Struct):
    id: str
    position: int
    title: str
    amount: Money
    due_date: str
    expected_deliverable: str
    status: str
    overdue: bool
    submitted_at: str | None
    accepted_at: str | None
    deliverables: list[DeliverableOut]
    reviews: list[ReviewOut]
    payout: PayoutOut | None


class ExperimentOut(msgspec.Struct):
    id: str
    contract_id: str | None
    challenge_id: str | None
    title: str
    buyer: Party
    company: Party
    hypothesis: str
    success_measures: str
    status: str
    outcome: str | None
    learnings: str
    follow_on: str | None
    started_at: str
    finished_at: str | None
    milestones: list[MilestoneOut]


class ExperimentSummary(msgspec.Struct):
    """An experiment in a list: who, what, where it stands (the detail is GET /experiments/{id})."""

    id: str
    contract_id: str | None
    challenge_id: str | None
    title: str
    buyer: Party
    company: Party
    status: str
    outcome: str | None
    started_at: str
    finished_at: str | None
    milestones: int
    milestones_accepted: int
    paid: Money
    role: str  # how the caller relates to it: "buyer", "company" or "incubator" (its portfolio, read only)


class ExperimentPage(msgspec.Struct):
    items: list[ExperimentSummary]
    next_cursor: str | None


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["accept", "request_changes"]
    feedback: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    result: Literal["succeeded", "partial", "failed"]
    learnings: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    follow_on: Literal["scale_up", "new_challenge", "stop"]
