"""Pitch scheduling at a stage that declares `pitch`: the buyer team proposes slots, each team at the
stage picks one while the stage is open, both see it in the buyer's time zone, and either can import it
into a calendar (iCalendar, RFC 5545)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.proposals import access, lifecycle
from marketplace.proposals.services import ACTIVE, get_challenge, parse_uuid, stage_rows, template_of
from marketplace.proposals.tables import PitchSlot, Proposal
from marketplace.transparency.audit import record

SCHEDULERS = ("civil_servant", "procurement_officer")


class SlotIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime
    minutes: int = 20
    location: str = ""


class SlotsIn(msgspec.Struct, forbid_unknown_fields=True):
    slots: list[SlotIn]
    timezone: str = "Europe/Brussels"


class CompanyRef(msgspec.Struct):
    id: str
    name: str


class SlotOut(msgspec.Struct):
    id: str
    challenge_id: str
    stage: str
    starts_at: str  # UTC
    ends_at: str
    minutes: int
    timezone: str
    local_start: str  # the same moment in the slot's time zone, with its offset
    location: str
    taken: bool
    mine: bool
    company: CompanyRef | None  # the buyer team sees who chose it
    ics_url: str | None  # for those who may import it


def _is_scheduler(principal: Principal, challenge: dict[str, Any]) -> bool:
    return principal.has_role(*SCHEDULERS, organisation_id=str(challenge["buyer"]))


def local_start(slot: dict[str, Any]) -> datetime:
    """The slot's start in its time zone (the zone's name goes with it wherever it is shown)."""
    return as_utc(slot["starts_at"]).astimezone(ZoneInfo(slot["timezone"]))


def slot_out(slot: dict[str, Any], *, mine: bool, company: CompanyRef | None, readable: bool) -> SlotOut:
    start = as_utc(slot["starts_at"])
    return SlotOut(id=str(slot["id"]), challenge_id=str(slot["challenge"]), stage=slot["stage"], starts_at=rfc3339(start) or "",
                   ends_at=rfc3339(start + timedelta(minutes=slot["minutes"])) or "", minutes=slot["minutes"],
                   timezone=slot["timezone"], local_start=local_start(slot).isoformat(), location=slot["location"],
                   taken=slot["proposal"] is not None, mine=mine, company=company,
                   ics_url=f"/api/v1/pitch-slots/{slot['id']}/calendar.ics" if readable else None)


async def propose_slots(principal: Principal, challenge_id: Any, stage_key: str, data: SlotsIn) -> list[SlotOut]:
    """The buyer team proposes pitch slots for a stage that declares `pitch` (409 naming the stage and the
    feature otherwise), before the stage's deadline; each slot starts in the future."""
    challenge = await get_challenge(challenge_id)
    if not _is_scheduler(principal, challenge):
        raise NotFound("challenge")
    template = template_of(challenge)
    if stage_key not in template.stage_keys:
        raise NotFound("stage")
    engine.require(template, stage_key, "schedule_pitch")
    await lifecycle.sync_challenge(challenge["id"])
    row = (await stage_rows(challenge["id"]))[stage_key]
    if row["status"] not in ("pending", "open") or now() >= as_utc(row["closes_at"]):
        raise Conflict(_("This stage is closed: no more pitch slots."), [FieldError("stage", "is closed")])
    errors: list[FieldError] = []
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("timezone", "is not a known time zone (e.g. Europe/Brussels)"))
    if not data.slots:
        errors.append(FieldError("slots", "name at least one slot"))
    for i, s in enumerate(data.slots):
        if s.starts_at.tzinfo is None:
            errors.append(FieldError(f"slots[{i}].starts_at", "needs a time zone offset (RFC 3339)"))
        elif s.starts_at <= now():
            errors.append(FieldError(f"slots[{i}].starts_at", "is in the past"))
        if not 5 <= s.minutes <= 240:
            errors.append(FieldError(f"slots[{i}].minutes", "must be from 5 to 240"))
        if len(s.location) > 500:
            errors.append(FieldError(f"slots[{i}].location", "is longer than 500 characters"))
    if errors:
        raise Invalid(errors)
    rows = [PitchSlot(challenge=challenge["id"], stage=stage_key, starts_at=as_utc(s.starts_at), minutes=s.minutes,
                      timezone=data.timezone, location=s.location.strip(), created_by=uuid.UUID(principal.user_id)) for s in data.slots]
    async with transaction():
        await PitchSlot.insert(*rows)
        await record(principal.user_id, "pitch.slots_proposed", "challenge", str(challenge["id"]),
                     {"stage": stage_key, "slots": len(rows)})
    return await list_slots(principal, challenge["id"], stage_key)


async def _team_proposal(principal: Principal, challenge: dict[str, Any], stage_key: str) -> dict[str, Any] | None:
    """The proposal of the principal's team that is at this stage, if any."""
    companies = [uuid.UUID(c) for c in await access.team_companies(principal)]
    if not companies:
        return None
    return await Proposal.select().where((Proposal.challenge == challenge["id"]) & Proposal.company.is_in(companies)
                                         & (Proposal.current_stage == stage_key) & Proposal.status.is_in(ACTIVE)).first()


async def list_slots(principal: Principal, challenge_id: Any, stage_key: str) -> list[SlotOut]:
    """The buyer team sees every slot and who chose it; a team at the stage sees the free slots and its own."""
    challenge = await get_challenge(challenge_id)
    rows = await PitchSlot.select().where((PitchSlot.challenge == challenge["id"]) & (PitchSlot.stage == stage_key)).order_by(
        PitchSlot.starts_at)
    if principal.has_role(*SCHEDULERS, "buyer_admin", organisation_id=str(challenge["buyer"])):
        names = {str(o["id"]): o["name"] for o in await Organisation.select(Organisation.id, Organisation.name).where(
            Organisation.id.is_in([p["company"] for p in await Proposal.select(Proposal.company).where(
                Proposal.id.is_in([r["proposal"] for r in rows if r["proposal"]] or [uuid.uuid4()]))] or [uuid.uuid4()]))}
        companies = {str(p["id"]): str(p["company"]) for p in await Proposal.select(Proposal.id, Proposal.company).where(
            Proposal.id.is_in([r["proposal"] for r in rows if r["proposal"]] or [uuid.uuid4()]))}
        return [slot_out(r, mine=False, readable=r["proposal"] is not None,
                         company=CompanyRef(id=companies[str(r["proposal"])], name=names[companies[str(r["proposal"])]])
                         if r["proposal"] else None) for r in rows]
    proposal = await _team_proposal(principal, challenge, stage_key)
    if proposal is None:
        raise NotFound("challenge")
    return [slot_out(r, mine=r["proposal"] == proposal["id"], company=None, readable=r["proposal"] == proposal["id"])
            for r in rows if r["proposal"] is None or r["proposal"] == proposal["id"]]


async def choose_slot(principal: Principal, slot_id: Any) -> SlotOut:
    """A team at the slot's stage picks it while that stage is open and allows `pitch` (409 naming the open
    stage and the feature otherwise); picking another slot later frees the first. A taken slot is refused."""
    slot = await PitchSlot.select().where(PitchSlot.id == parse_uuid(slot_id, "pitch slot")).first()
    if slot is None:
        raise NotFound("pitch slot")
    challenge = await get_challenge(slot["challenge"])
    proposal = await _team_proposal(principal, challenge, slot["stage"])
    if proposal is None:
        raise NotFound("pitch slot")
    await lifecycle.sync_challenge(challenge["id"])
    template = template_of(challenge)
    open_key = engine.open_stage_key(await lifecycle.stages_of(challenge["id"]), now())
    engine.require(template, open_key, "schedule_pitch")  # 409 naming the open stage (or none) and the feature
    if open_key != slot["stage"]:
        raise Conflict(_("This pitch slot belongs to the stage '%(stage)s', which is not open now.", stage=template.stage(slot["stage"]).name),
                       [FieldError("stage", f"`{slot['stage']}` is not open")])
    from marketplace.proposals.services import _contractors_only

    await _contractors_only(template, challenge, proposal, slot["stage"])
    if as_utc(slot["starts_at"]) <= now():
        raise Conflict(_("This pitch slot has already begun."), [FieldError("slot", "is in the past")])
    try:
        async with transaction():
            await PitchSlot.update({PitchSlot.proposal: None, PitchSlot.chosen_at: None}).where(
                (PitchSlot.proposal == proposal["id"]) & (PitchSlot.stage == slot["stage"]) & (PitchSlot.id != slot["id"]))
            taken = await PitchSlot.update({PitchSlot.proposal: proposal["id"], PitchSlot.chosen_at: now()}).where(
                (PitchSlot.id == slot["id"]) & (PitchSlot.proposal.is_null() | (PitchSlot.proposal == proposal["id"]))
            ).returning(PitchSlot.id)
            if not taken:
                raise Conflict(_("Another team chose this pitch slot: pick a free one."), [FieldError("slot", "is taken")])
            await record(principal.user_id, "pitch.slot_chosen", "proposal", str(proposal["id"]),
                         {"stage": slot["stage"], "slot": str(slot["id"])})
    except Exception as exc:
        if is_integrity_error(exc):
            raise Conflict(_("You chose another slot at the same moment: reload and try again.")) from None
        raise
    row = await PitchSlot.select().where(PitchSlot.id == slot["id"]).first()
    return slot_out(row, mine=True, company=None, readable=True)


async def slot_calendar(principal: Principal, slot_id: Any) -> tuple[bytes, str]:
    """The chosen slot as an iCalendar file, for the buyer team and the team that chose it."""
    slot = await PitchSlot.select().where(PitchSlot.id == parse_uuid(slot_id, "pitch slot")).first()
    if slot is None or slot["proposal"] is None:
        raise NotFound("pitch slot")
    challenge = await get_challenge(slot["challenge"])
    proposal = await Proposal.select(Proposal.company, Proposal.company.name.as_alias("company_name")).where(
        Proposal.id == slot["proposal"]).first()
    buyer = principal.has_role(*SCHEDULERS, "buyer_admin", organisation_id=str(challenge["buyer"]))
    if not buyer and str(proposal["company"]) not in await access.team_companies(principal):
        raise NotFound("pitch slot")
    spec = template_of(challenge).stage(slot["stage"])
    summary = _("Pitch: %(challenge)s", challenge=challenge["title"])
    description = _("%(stage)s, %(company)s. Times in %(zone)s.", stage=spec.name, company=proposal["company_name"],
                    zone=slot["timezone"])
    return icalendar(slot, summary, description), f"pitch-{slot['id']}.ics"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued with a space (never splitting a character)."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def icalendar(slot: dict[str, Any], summary: str, description: str) -> bytes:
    """One VEVENT in UTC (unambiguous in every calendar), with the buyer's time zone named in the text."""
    start = as_utc(slot["starts_at"])
    stamp = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Innovation procurement marketplace//Pitch slots//EN", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:pitch-{slot['id']}@marketplace", f"DTSTAMP:{now().strftime(stamp)}",
        f"DTSTART:{start.strftime(stamp)}", f"DTEND:{(start + timedelta(minutes=slot['minutes'])).strftime(stamp)}",
        f"SUMMARY:{_ics_text(summary)}", f"DESCRIPTION:{_ics_text(description)}",
    ]
    if slot["location"]:
        lines.append(f"LOCATION:{_ics_text(slot['location'])}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
