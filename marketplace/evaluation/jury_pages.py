"""The jury's pages: live scoring on a phone (one team at a time, in pitch order, each criterion saved on
its own with large touch targets), and the buyer's form to name jurors on the stage board."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from marketplace.core.auth import allow, current
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.evaluation import jury, schemas, services
from marketplace.proposals import access
from marketplace.proposals.pages import view
from marketplace.proposals.services import get_challenge, stage_proposals, stage_rows, template_of
from marketplace.web.pages import errors_by_field, form_text, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _pitch_order(challenge_id: Any, stage: str) -> dict[str, Any]:
    """proposal id -> its pitch slot's start (the jury scores in the order the teams pitch)."""
    from marketplace.proposals.tables import PitchSlot

    rows = await PitchSlot.select(PitchSlot.proposal, PitchSlot.starts_at, PitchSlot.timezone).where(
        (PitchSlot.challenge == challenge_id) & (PitchSlot.stage == stage) & PitchSlot.proposal.is_not_null())
    from marketplace.core.clock import as_utc

    return {str(r["proposal"]): {**r, "starts_at": as_utc(r["starts_at"])} for r in rows}


@get("/challenges/{challenge_id:str}/jury", opt=allow("evaluator"), include_in_schema=False)
async def jury_page(request: Request[Any, Any, Any], challenge_id: str, proposal: str | None = None) -> Any:
    """A juror's scoring page: the teams in pitch order, one shown at a time with its pitch summary and team,
    and a form per criterion (tap a score, save)."""
    principal = current(request)
    challenge = await get_challenge(challenge_id)
    await jury.claim_seats(principal.user_id)
    if await jury.panel_of(challenge["id"], principal.user_id) != jury.JURY:
        raise NotFound("challenge")
    viewer = await access.buyer_viewer(principal, challenge)
    if not viewer.declared:
        return see_other(f"/challenges/{challenge_id}/declaration", _("Declare your conflicts of interest first."), error=True)
    template = template_of(challenge)
    key = jury.jury_stages(template)[0]
    spec = template.stage(key)
    row = (await stage_rows(challenge["id"]))[key]
    context: dict[str, Any] = {"challenge": challenge, "spec": spec, "closes_at": row["closes_at"], "teams": [], "current": None}
    if not access.unsealed(row["closes_at"]):
        return view(request, "evaluation/jury.html", **context)
    _c, _k, items, _next = await stage_proposals(principal, challenge_id, key)
    slots = await _pitch_order(challenge["id"], key)
    far = {"starts_at": None}
    items.sort(key=lambda i: (slots.get(i.id, far)["starts_at"] is None, slots.get(i.id, far)["starts_at"] or 0,
                              i.company.name if i.company else i.id))
    criteria = await services.criteria_for(challenge, key)
    status = await services.scored_by(principal.user_id, key, [i.id for i in items], len(criteria))
    teams = [{"id": i.id, "name": i.company.name if i.company else _("Team %(n)s", n=n + 1), "status": status.get(i.id, "to do"),
              "slot": slots.get(i.id)} for n, i in enumerate(items)]
    context["teams"] = teams
    if not teams:
        return view(request, "evaluation/jury.html", **context)
    chosen = next((t for t in teams if t["id"] == proposal), None) or next((t for t in teams if t["status"] != "done"), teams[0])
    position = teams.index(chosen)
    from marketplace.proposals.services import load_proposal, render_proposal
    from marketplace.proposals.team import KIND_LABELS, country_label, members_of

    proposal_row, _challenge = await load_proposal(chosen["id"])
    out = await render_proposal(proposal_row, challenge, viewer, [key])
    mine = await services.my_scores(proposal_row["id"], key, uuid.UUID(principal.user_id), criteria)
    context.update(current=chosen, answers=out.stages[0].answers if out.stages else {}, criteria=criteria,
                   given={s.criterion: s for s in mine.scores}, members=await members_of(proposal_row["id"]),
                   kind_labels=KIND_LABELS, country_label=country_label,
                   previous=teams[position - 1] if position > 0 else None,
                   following=teams[position + 1] if position + 1 < len(teams) else None, position=position + 1)
    return view(request, "evaluation/jury.html", **context)


@post("/proposals/{proposal_id:str}/jury-score", opt=allow("evaluator"), include_in_schema=False)
async def jury_score(request: Request[Any, Any, Any], proposal_id: str, data: Form) -> Redirect:
    """One criterion, saved on its own (a juror taps a score and saves; a comment is optional)."""
    from marketplace.proposals.services import load_proposal

    principal = current(request)
    _proposal, challenge = await load_proposal(proposal_id)
    stage, criterion = form_text(data, "stage", 60), form_text(data, "criterion", 60)
    raw = form_text(data, "value", 5).strip()
    back = f"/challenges/{challenge['id']}/jury?proposal={proposal_id}#c-{criterion}"
    if not raw.isdigit():
        return see_other(back, _("Tap a score first."), error=True)
    try:
        await services.score(principal, proposal_id, schemas.ScoresIn(stage=stage, scores=[schemas.ScoreIn(
            criterion=criterion, value=int(raw), justification=form_text(data, "comment", 5000))]))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(back, "; ".join(errors_by_field(exc).values()) or _(exc.detail), error=True)
    return see_other(back, _("Score saved."))


@post("/challenges/{challenge_id:str}/board/jury", opt=allow("civil_servant"), include_in_schema=False)
async def appoint_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Redirect:
    try:
        await jury.appoint(current(request), challenge_id, jury.JurorIn(
            email=form_text(data, "email", 254), affiliation=form_text(data, "affiliation", 200), country=form_text(data, "country", 2)))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/challenges/{challenge_id}/board#jury", "; ".join(errors_by_field(exc).values()) or _(exc.detail), error=True)
    return see_other(f"/challenges/{challenge_id}/board#jury", _("Juror named. They must declare conflicts of interest first."))


async def board_jury(challenge: dict[str, Any], viewer: access.Viewer, principal: Any) -> dict[str, Any]:
    """The jury section of the stage board: the jurors (buyer team) or the link to the scoring page (a juror)."""
    if not jury.jury_stages(template_of(challenge)):
        return {"jury": None}
    if viewer.kind == access.BUYER:
        return {"jury": await jury.jurors(challenge), "is_juror": False}
    return {"jury": [], "is_juror": await jury.panel_of(challenge["id"], principal.user_id) == jury.JURY}

