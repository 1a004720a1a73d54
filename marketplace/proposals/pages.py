"""Proposal pages: start, the stage forms (work without JavaScript; word counters enhance them),
"my proposals" and the incubator pipeline with timelines, the buyer's stage board and decision form."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import allow, current
from marketplace.core.clock import as_utc, now
from marketplace.core.errors import Conflict, DomainError, Invalid
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.proposals import access, decisions, forms, lifecycle, schemas, services
from marketplace.proposals.answers import word_count
from marketplace.proposals.tables import Proposal
from marketplace.web.pages import confirmed, errors_by_field, form_text, page, see_other


def when(value: str | None) -> str:
    """An RFC 3339 time from the API types, shown in the reader's language and Brussels time."""
    if not value:
        return ""
    from datetime import date, datetime

    from marketplace.core.templating import _fmt_date, _fmt_datetime

    if "T" not in value:  # a due date, not a moment
        return _fmt_date(date.fromisoformat(value))
    return _fmt_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))


def view(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    return page(request, template, status_code=status_code, when=when, **context)


Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
TEAM = ("company_member", "incubator_member")
READERS = ("company_member", "incubator_member", "civil_servant", "procurement_officer", "buyer_admin", "evaluator")
BUYER = ("civil_servant", "procurement_officer", "buyer_admin")


@get("/proposals", opt=allow(*TEAM), include_in_schema=False)
async def my_proposals(request: Request[Any, Any, Any]) -> Template:
    principal = current(request)
    items = await services.my_proposals(principal)
    by_company: dict[str, list[schemas.ProposalOut]] = {}
    for p in items:
        by_company.setdefault(p.company.name if p.company else "", []).append(p)
    incubator = bool(principal.organisations("incubator_member"))
    return view(request, "proposals/mine.html", items=items, by_company=by_company, incubator=incubator)


@get("/challenges/{challenge_id:str}/propose", opt=allow(*TEAM), include_in_schema=False)
async def start_form(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    principal = current(request)
    challenge = await services.get_challenge(challenge_id)
    await lifecycle.sync_challenge(challenge["id"])
    companies = await _companies(principal)
    template = services.template_of(challenge)
    first = (await services.stage_rows(challenge["id"])).get(template.stage_keys[0])
    open_now = first is not None and first["status"] == "open" and now() < as_utc(first["closes_at"])
    existing = []
    if companies:
        existing = await (Proposal.select(Proposal.id, Proposal.status, Proposal.company, Proposal.company.name.as_alias("company_name"))
                          .where((Proposal.challenge == challenge["id"]) & Proposal.company.is_in([c["id"] for c in companies])))
    taken = {str(e["company"]) for e in existing}
    companies = [c for c in companies if str(c["id"]) not in taken]
    return view(request, "proposals/start.html", challenge=challenge, procedure=template, first=first, open_now=open_now,
                companies=companies, existing=existing)


async def _companies(principal) -> list[dict]:  # noqa: ANN001
    ids = [uuid.UUID(c) for c in await access.team_companies(principal)]
    if not ids:
        return []
    return await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id.is_in(ids)).order_by(Organisation.name)


@post("/challenges/{challenge_id:str}/propose", opt=allow(*TEAM), include_in_schema=False)
async def start(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    company_id = form_text(data, "company_id", 64) or None
    try:
        proposal = await services.start_proposal(current(request), challenge_id, company_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/challenges/{challenge_id}/propose", "; ".join(errors_by_field(exc).values()), error=True)
    return see_other(f"/proposals/{proposal.id}", _("Your proposal is started. Save a draft whenever you like."))


@get("/proposals/{proposal_id:str}", opt=allow(*READERS), include_in_schema=False)
async def proposal_page(request: Request[Any, Any, Any], proposal_id: str) -> Any:
    principal = current(request)
    try:
        proposal, challenge, viewer, keys = await services.proposal_view(principal, proposal_id)
    except Conflict:
        proposal_row = await services.load_proposal(proposal_id)
        return see_other(f"/challenges/{proposal_row[1]['id']}/declaration", _("Declare your conflicts of interest first."), error=True)
    return await _render_proposal(request, proposal, challenge, viewer, keys)


async def _render_proposal(request: Request[Any, Any, Any], proposal: dict, challenge: dict, viewer: access.Viewer, keys: list[str],
                           status_code: int = 200, errors: dict | None = None, override: dict | None = None,
                           team_errors: dict | None = None, team_rows: list | None = None) -> Template:
    principal = current(request)
    out = await services.render_proposal(proposal, challenge, viewer, keys)
    template = services.template_of(challenge)
    stages = await services.stage_rows(challenge["id"])
    current_row = stages.get(out.current_stage)
    editable = (viewer.kind == access.TEAM and out.status in ("draft", "submitted", "advanced", "selected", "awarded")
                and current_row is not None and current_row["status"] == "open" and as_utc(current_row["opens_at"]) <= now() < as_utc(current_row["closes_at"]))
    locked = None  # why the form is not offered although the stage is open (the stage's features say so)
    if editable and next((s.version for s in out.stages if s.key == out.current_stage), 0) > 0 \
            and not engine.allowed(template, out.current_stage, "edit_submission"):
        editable, locked = False, engine.FeatureOff(template, out.current_stage, "edit_submission").detail
    form_stage = template.stage(out.current_stage) if editable else None
    can_upload = form_stage is not None and engine.allowed(template, form_stage.key, "upload_document")
    values: dict = {}
    if form_stage is not None:
        shown = next((s.answers for s in out.stages if s.key == out.current_stage), {})
        values = forms.form_values(form_stage, override if override is not None else shown)
    can_decide = viewer.kind == access.BUYER and principal.has_role("civil_servant", organisation_id=str(challenge["buyer"]))
    decidable = None
    if can_decide and current_row is not None and current_row["status"] == "evaluation" and out.status not in ("withdrawn",):
        decidable = next((s for s in out.stages if s.key == out.current_stage), None)
    from marketplace.proposals.attachments import latest as latest_documents

    stage_documents = await latest_documents(proposal["id"], form_stage.key) if form_stage is not None else {}
    award_links: dict = {}
    price_note = None
    if viewer.kind == access.TEAM and out.status == "awarded":
        from marketplace.awards.services import links_for_proposal
        from marketplace.awards.tables import Award
        from marketplace.core.money import format_money

        award_links = await links_for_proposal(out.id, principal)
        from marketplace.experiments.next_step import after_award  # late: experiments builds on proposals

        out.next = await after_award(uuid.UUID(out.id))  # the contract, the milestones, the payouts
        award = await Award.select(Award.amount_cents, Award.currency).where(
            (Award.proposal == uuid.UUID(out.id)) & (Award.status != Award.Status.cancelled)).order_by(
            Award.awarded_at, ascending=False).first()
        bid = next((v for s in reversed(out.stages)  # the price of the latest stage that asked for one
                    for v in (s.answers or {}).values() if isinstance(v, dict) and set(v) == {"amount", "currency"}), None)
        if award and bid and bid["amount"] != award["amount_cents"]:
            price_note = _("The awarded price (%(awarded)s) differs from your bid (%(bid)s).",
                           awarded=format_money(award["amount_cents"], award["currency"]), bid=format_money(bid["amount"], bid["currency"]))
    scores: list = []
    if viewer.kind == access.BUYER:
        from marketplace.evaluation import services as evaluation

        scores = (await evaluation.justifications(challenge, out.current_stage, [out.id])).get(out.id, [])
    pitch = await _pitch_context(principal, template, challenge, out, stages, viewer)
    team_out = None
    if any("team" in s.features for s in template.stages):
        from marketplace.proposals import team

        team_out = await team.team_of(proposal, challenge, viewer, keys)
    return view(request, "proposals/proposal.html", status_code=status_code, p=out, challenge=challenge, procedure=template, **pitch,
                team=team_out, team_errors=team_errors or {}, team_rows=team_rows, **_team_labels(),
                evaluation_scores=scores,
                stage_documents=stage_documents, award_links=award_links, price_note=price_note, locked=locked, can_upload=can_upload,
                viewer=viewer, form_stage=form_stage, values=values, errors=errors or {}, closes_at=current_row["closes_at"] if current_row else None,
                decidable=decidable, word_count=word_count, milestone_rows=forms.MILESTONE_ROWS)


async def _pitch_context(principal, template, challenge: dict, out, stages: dict, viewer) -> dict:  # type: ignore[no-untyped-def]
    """The team's pitch section, where its current stage declares `pitch`: the slot it chose, and the free
    slots to pick from while the stage is open (the engine says whether picking is allowed now)."""
    if viewer.kind != access.TEAM or "pitch" not in template.stage(out.current_stage).features:
        return {"pitch_slots": None}
    from marketplace.proposals import pitches
    from marketplace.proposals.pitch_routes import slot_view

    try:
        slots = [slot_view(s) for s in await pitches.list_slots(principal, challenge["id"], out.current_stage)]
    except DomainError:
        return {"pitch_slots": None}
    open_key = engine.open_stage_key(stages.values(), now())
    can_choose = open_key == out.current_stage and engine.allowed(template, open_key, "schedule_pitch")
    return {"pitch_slots": slots, "can_choose_pitch": can_choose}


@post("/proposals/{proposal_id:str}/stages/{stage:str}", opt=allow(*TEAM), include_in_schema=False)
async def save_stage(request: Request[Any, Any, Any], proposal_id: str, stage: str, data: Form) -> Any:
    principal = current(request)
    proposal, challenge = await services._load_for_team(principal, proposal_id)
    template = services.template_of(challenge)
    if stage not in template.stage_keys:
        raise services.NotFound("stage")
    answers, parse_errors = forms.answers_from_form(template.stage(stage), data)
    submit = form_text(data, "action", 10) == "submit"
    try:
        if parse_errors:
            raise Invalid(parse_errors)
        await services.save_answers(principal, proposal_id, stage, answers)
        if submit:
            await services.submit_stage(principal, proposal_id, stage)
    except DomainError as exc:
        if exc.status == 404:
            raise
        proposal, challenge, viewer, keys = await services.proposal_view(principal, proposal_id)
        errs = forms.errors_for_form(exc)
        if exc.status == 409:
            return see_other(f"/proposals/{proposal_id}", errs.get("_form") or _(exc.detail), error=True)
        return await _render_proposal(request, proposal, challenge, viewer, keys, status_code=422, errors=errs,
                                      override={k: v for k, v in answers.items() if v is not None})
    notice = _("Submitted. You can still edit and resubmit until the deadline.") if submit else _("Draft saved.")
    return see_other(f"/proposals/{proposal_id}", notice)


def _team_labels() -> dict[str, Any]:
    from marketplace.proposals import team

    return {"team_kinds": list(team.KIND_LABELS.items()), "team_kind_labels": team.KIND_LABELS, "country_label": team.country_label}


def team_from_form(data: dict[str, Any]) -> list[dict[str, str]]:
    """The team form's rows (`m_<i>_name`, `m_<i>_organisation`, `m_<i>_kind`, `m_<i>_country`); blank rows are left out."""
    rows = []
    for i in range(60):
        row = {k: form_text(data, f"m_{i}_{k}", 200) for k in ("name", "organisation", "kind", "country")}
        if f"m_{i}_name" not in data and f"m_{i}_organisation" not in data:
            continue
        if row["name"] or row["organisation"]:
            rows.append(row)
    return rows


@post("/proposals/{proposal_id:str}/team", opt=allow(*TEAM), include_in_schema=False)
async def save_team(request: Request[Any, Any, Any], proposal_id: str, data: Form) -> Any:
    """The team form: every member on a row; a row left blank is no member (remove one by emptying its row)."""
    from marketplace.proposals import team

    principal = current(request)
    rows = team_from_form(data)
    try:
        await team.replace_team(principal, proposal_id, team.TeamIn(members=[
            team.MemberIn(name=r["name"], organisation=r["organisation"], kind=r["kind"], country=r["country"] or "BE") for r in rows]))
    except DomainError as exc:
        if exc.status == 404:
            raise
        if exc.status == 409:
            return see_other(f"/proposals/{proposal_id}#team", _(exc.detail), error=True)
        proposal, challenge, viewer, keys = await services.proposal_view(principal, proposal_id)
        return await _render_proposal(request, proposal, challenge, viewer, keys, status_code=422, team_errors=errors_by_field(exc),
                                      team_rows=rows)
    return see_other(f"/proposals/{proposal_id}#team", _("Your team is saved."))


@post("/proposals/{proposal_id:str}/withdraw", opt=allow(*TEAM), include_in_schema=False)
async def withdraw(request: Request[Any, Any, Any], proposal_id: str, data: Form) -> Redirect:
    if form_text(data, "confirm", 5) != "yes":
        return see_other(f"/proposals/{proposal_id}",
                         _("Nothing was withdrawn: tick the box to confirm that you withdraw the proposal."))
    try:
        await services.withdraw(current(request), proposal_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/proposals/{proposal_id}", _(exc.detail), error=True)
    return see_other(f"/proposals/{proposal_id}", _("Your proposal is withdrawn."))


@post("/proposals/{proposal_id:str}/decision", opt=allow("civil_servant"), include_in_schema=False)
async def decide(request: Request[Any, Any, Any], proposal_id: str, data: Form) -> Any:
    principal = current(request)
    body = {"stage": form_text(data, "stage", 60), "outcome": form_text(data, "outcome", 10), "feedback": form_text(data, "feedback", 10000)}
    try:
        if body["outcome"] not in ("advance", "reject"):
            from marketplace.core.errors import invalid

            raise invalid("outcome", "choose advance or reject")
        await decisions.decide(principal, proposal_id, schemas.DecisionIn(**body))
    except DomainError as exc:
        if exc.status == 404:
            raise
        proposal, challenge, viewer, keys = await services.proposal_view(principal, proposal_id)
        page_ = await _render_proposal(request, proposal, challenge, viewer, keys, status_code=exc.status, errors=errors_by_field(exc))
        page_.context["form"] = body
        return page_
    proposal, challenge = await services.load_proposal(proposal_id)
    return see_other(f"/challenges/{challenge['id']}/board?stage={body['stage']}", _("Decision saved. The company is told when the stage closes."))


@get("/challenges/{challenge_id:str}/board", opt=allow(*BUYER, "evaluator"), include_in_schema=False)
async def board(request: Request[Any, Any, Any], challenge_id: str, stage: str | None = None) -> Any:
    """The buyer's stage board: every stage with its dates and status, the proposals of the chosen stage
    once its deadline passed, their decisions, evaluation progress, and the close button."""
    principal = current(request)
    challenge = await services.get_challenge(challenge_id)
    viewer = await access.buyer_viewer(principal, challenge)
    if viewer.kind == access.NOBODY or viewer.conflict:
        raise services.NotFound("challenge")
    if viewer.kind == access.EVALUATOR and not viewer.declared:
        return see_other(f"/challenges/{challenge_id}/declaration", _("Declare your conflicts of interest first."))
    await lifecycle.sync_challenge(challenge["id"])
    template = services.template_of(challenge)
    stages = await services.stage_rows(challenge["id"])
    key = stage if stage in template.stage_keys else (challenge["current_stage"] or template.stage_keys[0])
    items: list = []
    sealed = not access.unsealed(stages[key]["closes_at"]) if key in stages else True
    if not sealed:
        _c, _k, items, _next = await services.stage_proposals(principal, challenge_id, key)
    missing = await decisions.undecided(challenge["id"], key) if viewer.kind == access.BUYER else []
    from marketplace.evaluation import services as evaluation

    ranking = None
    progress: list = []
    evaluators: list = []
    disagreements: list = []
    my_scoring: dict = {}
    blind = await evaluation.is_blind(challenge["id"])
    if viewer.kind == access.BUYER:
        evaluators = list((await evaluation.evaluators(challenge)).values())
        progress = await evaluation.progress(principal, challenge_id, key)
        if not sealed:
            ranking = await evaluation.buyer_ranking(principal, challenge_id, key)
            rank_of = {r.proposal_id: r.rank for r in ranking.items}
            items = sorted(items, key=lambda i: (rank_of.get(i.id, 10**6), i.company.name if i.company else "", i.id))
            disagreements = evaluation.most_disagreed(ranking)
    elif viewer.kind == access.EVALUATOR and not sealed:
        criteria_count = len(await evaluation.criteria_for(challenge, key))
        my_scoring = await evaluation.scored_by(principal.user_id, key, [i.id for i in items], criteria_count)
    can_decide = principal.has_role("civil_servant", organisation_id=str(challenge["buyer"]))
    first_row = stages.get(template.stage_keys[0])
    blind_changeable = first_row is None or first_row["status"] in ("pending", "open")  # not once the first round is judged
    last_row = stages.get(template.stage_keys[-1])
    award_link = (last_row is not None and last_row["status"] == "decided"
                  and principal.has_role("procurement_officer", organisation_id=str(challenge["buyer"])))
    from marketplace.evaluation.jury_pages import board_jury

    jury_context = await board_jury(challenge, viewer, principal)
    return view(request, "proposals/board.html", challenge=challenge, procedure=template, stages=stages, key=key, items=items, **jury_context,
                sealed=sealed, missing=missing, viewer=viewer, can_decide=can_decide, ranking=ranking, progress=progress,
                disagreements=disagreements, my_scoring=my_scoring,
                evaluators=evaluators, blind=blind, blind_changeable=blind_changeable, award_link=award_link)


@post("/challenges/{challenge_id:str}/board/stages/{stage:str}/close", opt=allow("civil_servant"), include_in_schema=False)
async def close_stage(request: Request[Any, Any, Any], challenge_id: str, stage: str, data: Form) -> Redirect:
    try:
        confirmed(data)
        result = await decisions.close_stage(current(request), challenge_id, stage)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/challenges/{challenge_id}/board?stage={stage}", _("The stage was not closed."), errors=errors_by_field(exc))
    return see_other(f"/challenges/{challenge_id}/board?stage={stage}",
                     _("Stage closed: %(a)s advanced, %(r)s not selected. Every company has been told.", a=result.advanced, r=result.rejected))
