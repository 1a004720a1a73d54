"""Wire types of awards, objections, contracts and signatures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from marketplace.core.money import Money

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are refused."""


class MilestoneIn(Strict):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    amount: Money
    due_date: date
    deliverable: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class AwardIn(Strict):
    proposal_id: Annotated[str, msgspec.Meta(max_length=64)]
    amount: Money
    milestones: Annotated[list[MilestoneIn], msgspec.Meta(min_length=1, max_length=20)]
    language: Literal["en", "fr", "nl"] = "en"


class ObjectionIn(Strict):
    text: Text


class AnswerIn(Strict):
    text: Text
    upheld: bool = False  # the objection is right: the award is cancelled (during the standstill only)


class SignatureIn(Strict):
    party: Literal["buyer", "company"] | None = None
    document_sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")] | None = None  # required: what is signed
    confirm: bool | None = None  # required and true: "I have read the contract"


class PartyOut(msgspec.Struct):
    id: str
    name: str
    enterprise_number: str | None
    country: str


class MilestoneOut(msgspec.Struct):
    position: int
    title: str
    amount: Money
    due_date: str
    deliverable: str


class ObjectionOut(msgspec.Struct):
    id: str
    award_id: str
    company_id: str
    text: str
    status: str
    raised_at: str
    answer: str
    answered_at: str | None


class AwardOut(msgspec.Struct):
    id: str
    challenge_id: str
    proposal_id: str
    buyer: PartyOut
    company: PartyOut
    amount: Money
    milestones: list[MilestoneOut]
    status: str
    awarded_at: str
    standstill_ends_at: str | None  # None: no standstill (see standstill_reason)
    starts_on: str
    contract_id: str | None
    open_objections: int
    standstill_reason: str | None = None  # why there is no standstill, in the reader's language (None: it runs)


class SignatureOut(msgspec.Struct):
    party: str
    organisation_id: str
    user_id: str
    name: str
    signed_at: str
    ip_address: str
    document_sha256: str


class ContractOut(msgspec.Struct):
    id: str
    number: str
    status: str
    language: str
    award_id: str
    challenge_id: str
    buyer: PartyOut
    company: PartyOut
    amount: Money
    milestones: list[MilestoneOut]
    starts_on: str
    ends_on: str
    document_sha256: str | None
    document_version: int | None
    signatures: list[SignatureOut]
    issued_at: str | None
    activated_at: str | None
    experiment_id: str | None = None  # the experiment the signed contract started


class ContractPage(msgspec.Struct):
    items: list[ContractOut]
    next_cursor: str | None


class AwardPage(msgspec.Struct):
    items: list[AwardOut]
    next_cursor: str | None


class ObjectionPage(msgspec.Struct):
    items: list[ObjectionOut]
    next_cursor: str | None
