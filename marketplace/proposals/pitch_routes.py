"""Pitch slots over HTTP: the API and the two pages (the buyer's slot list and form; the team's choice
on its proposal page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.core.auth import allow, current
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.proposals import pitches
from marketplace.proposals.services import get_challenge, template_of

TEAM_ROLES = ("company_member", "incubator_member")
READERS = (*pitches.SCHEDULERS, "buyer_admin", *TEAM_ROLES)


class PitchController(Controller):
    path = "/api/v1"
    tags = ["proposals"]

    @post("/challenges/{challenge_id:str}/stages/{stage:str}/pitch-slots", opt=allow(*pitches.SCHEDULERS), status_code=HTTP_201_CREATED)
    async def propose(self, request: Request[Any, Any, Any], challenge_id: str, stage: str, data: pitches.SlotsIn) -> dict[str, Any]:
        """The buyer team proposes pitch slots (`{slots: [{starts_at, minutes, location}], timezone}`) for a stage that
        declares `pitch`; 409 naming the stage and the feature when it does not."""
        return {"items": await pitches.propose_slots(current(request), challenge_id, stage, data), "next_cursor": None}

    @get("/challenges/{challenge_id:str}/stages/{stage:str}/pitch-slots", opt=allow(*READERS))
    async def list_slots(self, request: Request[Any, Any, Any], challenge_id: str, stage: str) -> dict[str, Any]:
        """Every slot and who chose it (buyer team); the free slots and its own (a team at the stage)."""
        return {"items": await pitches.list_slots(current(request), challenge_id, stage), "next_cursor": None}

    @post("/pitch-slots/{slot_id:str}/choose", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def choose(self, request: Request[Any, Any, Any], slot_id: str) -> pitches.SlotOut:
        """A team at the stage picks a free slot while the stage is open (choosing again frees the first)."""
        return await pitches.choose_slot(current(request), slot_id)

    @get("/pitch-slots/{slot_id:str}/calendar.ics", opt=allow(*READERS))
    async def calendar(self, request: Request[Any, Any, Any], slot_id: str) -> Response[bytes]:
        """The chosen slot as an iCalendar file (buyer team and the team that chose it)."""
        body, filename = await pitches.slot_calendar(current(request), slot_id)
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def slot_view(slot: pitches.SlotOut) -> dict[str, Any]:
    """A slot for a page: its start in its own time zone, with the zone's name."""
    start = datetime.fromisoformat(slot.local_start)
    return {"id": slot.id, "start": start, "minutes": slot.minutes, "timezone": slot.timezone, "location": slot.location,
            "taken": slot.taken, "mine": slot.mine, "company": slot.company.name if slot.company else None,
            "ics_url": slot.ics_url, "zone_abbr": start.tzname()}


@get("/challenges/{challenge_id:str}/stages/{stage:str}/pitch", opt=allow(*pitches.SCHEDULERS, "buyer_admin"), include_in_schema=False)
async def pitch_page(request: Request[Any, Any, Any], challenge_id: str, stage: str) -> Template:
    from marketplace.web.pages import page

    challenge = await get_challenge(challenge_id)
    template = template_of(challenge)
    if stage not in template.stage_keys:
        raise NotFound("stage")
    engine.require(template, stage, "schedule_pitch")  # a stage without `pitch` has no pitch page
    slots = await pitches.list_slots(current(request), challenge_id, stage)
    return page(request, "proposals/pitch.html", challenge=challenge, spec=template.stage(stage),
                slots=[slot_view(s) for s in slots], form={})


@post("/challenges/{challenge_id:str}/stages/{stage:str}/pitch", opt=allow(*pitches.SCHEDULERS), include_in_schema=False)
async def add_slot_page(request: Request[Any, Any, Any], challenge_id: str, stage: str) -> Redirect:
    """The buyer's form: one slot (local date and time in the chosen zone, length, place)."""
    from marketplace.web.pages import errors_by_field, see_other

    form = await request.form()
    zone = str(form.get("timezone") or "Europe/Brussels")
    back = f"/challenges/{challenge_id}/stages/{stage}/pitch"
    try:
        try:
            local = datetime.fromisoformat(str(form.get("starts_at") or "")).replace(tzinfo=ZoneInfo(zone))
            minutes = int(str(form.get("minutes") or "20"))
        except (ValueError, KeyError):
            return see_other(back, _("Give the start as a date and a time, and the length in minutes."))
        await pitches.propose_slots(current(request), challenge_id, stage, pitches.SlotsIn(
            slots=[pitches.SlotIn(starts_at=local, minutes=minutes, location=str(form.get("location") or ""))], timezone=zone))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(back, "; ".join(errors_by_field(exc).values()) or _(exc.detail))
    return see_other(back, _("Pitch slot added."))


@post("/pitch-slots/{slot_id:str}/choose", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def choose_page(request: Request[Any, Any, Any], slot_id: str) -> Redirect:
    from marketplace.web.pages import see_other

    form = await request.form()
    back = f"/proposals/{form.get('proposal_id') or ''}#pitch"
    try:
        await pitches.choose_slot(current(request), slot_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(back, _(exc.detail))
    return see_other(back, _("Your pitch slot is booked."))
