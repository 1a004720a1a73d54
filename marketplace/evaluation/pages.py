"""Evaluation pages: the evaluator's challenges, the declaration, the scoring form; assignment and
blindness on the stage board; the evaluation report as a page and a PDF."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges.tables import Challenge
from marketplace.core.auth import allow, current
from marketplace.core.errors import DomainError, invalid
from marketplace.core.headers import content_disposition
from marketplace.core.i18n import current_locale
from marketplace.core.i18n import gettext as _
from marketplace.evaluation import schemas, services
from marketplace.evaluation.tables import Declaration, EvaluatorAssignment
from marketplace.proposals import access
from marketplace.proposals.pages import view
from marketplace.proposals.services import (
    companies_with_proposals,
    get_challenge,
    load_proposal,
    proposal_view,
    render_proposal,
    stage_rows,
    template_of,
)
from marketplace.web.pages import errors_by_field, form_text, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
BUYER = access.BUYER_TEAM_ROLES


@get("/evaluations", opt=allow("evaluator"), include_in_schema=False)
async def my_evaluations(request: Request[Any, Any, Any]) -> Template:
    uid = uuid.UUID(current(request).user_id)
    from marketplace.evaluation.jury import claim_seats

    await claim_seats(uid)  # a juror invited by e-mail takes their seat here, after accepting the invitation
    rows = await EvaluatorAssignment.select(EvaluatorAssignment.challenge, EvaluatorAssignment.challenge.title.as_alias("title")).where(
        EvaluatorAssignment.evaluator == uid)
    declared = {str(d["challenge"]): d for d in await Declaration.select().where(Declaration.evaluator == uid)}
    return view(request, "evaluation/mine.html", rows=rows, declared=declared)


@get("/challenges/{challenge_id:str}/declaration", opt=allow("evaluator"), include_in_schema=False)
async def declaration_form(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    challenge = await _assigned(request, challenge_id)
    existing = await Declaration.select().where(
        (Declaration.challenge == challenge["id"]) & (Declaration.evaluator == uuid.UUID(current(request).user_id))).first()
    return view(request, "evaluation/declaration.html", challenge=challenge, existing=existing, bidders=await _bidders(challenge))


async def _bidders(challenge: dict) -> list[str] | str | None:
    """The names of the companies taking part, so the evaluator knows whom to declare about; None when
    the first round is blind (identities stay hidden from evaluators); "sealed" before the first deadline,
    when not even how many companies take part may show."""
    if await services.is_blind(challenge["id"]):
        return None
    first = min((await stage_rows(challenge["id"])).values(), key=lambda s: s["position"], default=None)
    if first is None or not access.unsealed(first["closes_at"]):
        return "sealed"
    ids = [uuid.UUID(c) for c in await companies_with_proposals(challenge["id"])]
    if not ids:
        return []
    return [r["name"] for r in await Organisation.select(Organisation.name).where(Organisation.id.is_in(ids)).order_by(Organisation.name)]


async def _assigned(request: Request[Any, Any, Any], challenge_id: str) -> dict:
    challenge = await get_challenge(challenge_id)
    from marketplace.evaluation.jury import claim_seats

    await claim_seats(current(request).user_id)
    if not await EvaluatorAssignment.exists().where((EvaluatorAssignment.challenge == challenge["id"])
                                                    & (EvaluatorAssignment.evaluator == uuid.UUID(current(request).user_id))):
        raise services.NotFound("challenge")
    return challenge


@post("/challenges/{challenge_id:str}/declaration", opt=allow("evaluator"), include_in_schema=False)
async def declare(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    choice = form_text(data, "has_conflict", 5)
    statement = form_text(data, "statement", 5000)
    try:
        if choice not in ("yes", "no"):
            raise invalid("has_conflict", "choose whether you have a conflict of interest")
        await services.declare(current(request), challenge_id, choice == "yes", statement)
    except DomainError as exc:
        if exc.status == 404:
            raise
        challenge = await _assigned(request, challenge_id)
        return view(request, "evaluation/declaration.html", status_code=exc.status, challenge=challenge, existing=None,
                    bidders=await _bidders(challenge),
                    errors=errors_by_field(exc), form={"has_conflict": choice, "statement": statement})
    if choice == "yes":
        return see_other("/evaluations", _("Thank you. You will not see or score the proposals of this challenge."))
    return see_other(f"/challenges/{challenge_id}/board", _("Thank you. The proposals open to you once their deadline has passed."))


@get("/proposals/{proposal_id:str}/score", opt=allow("evaluator"), include_in_schema=False)
async def score_form(request: Request[Any, Any, Any], proposal_id: str, stage: str | None = None) -> Any:
    principal = current(request)
    try:
        proposal, challenge, viewer, keys = await proposal_view(principal, proposal_id)
    except DomainError as exc:
        if exc.status == 409:
            _proposal, challenge = await load_proposal(proposal_id)
            return see_other(f"/challenges/{challenge['id']}/declaration", _("Declare your conflicts of interest first."), error=True)
        raise
    if viewer.kind != access.EVALUATOR:
        raise services.NotFound("proposal")
    key = stage if stage in keys else keys[-1]
    return await _score_page(request, proposal, challenge, viewer, keys, key)


async def _score_page(request, proposal, challenge, viewer, keys, key, status_code=200, errors=None, form=None) -> Template:  # noqa: ANN001
    criteria = await services.criteria_for(challenge, key)
    mine = await services.my_scores(proposal["id"], key, uuid.UUID(current(request).user_id), criteria)
    given = {s.criterion: s for s in mine.scores}
    out = await render_proposal(proposal, challenge, viewer, keys)
    stage_out = next(s for s in out.stages if s.key == key)
    return view(request, "evaluation/score.html", status_code=status_code, p=out, stage=stage_out, spec=template_of(challenge).stage(key),
                criteria=criteria, given=given, errors=errors or {}, form=form or {},
                guidance_by_criterion={c.key: {g.score: g.text for g in c.guidance} for c in criteria})


@post("/proposals/{proposal_id:str}/score", opt=allow("evaluator"), include_in_schema=False)
async def score(request: Request[Any, Any, Any], proposal_id: str, data: Form) -> Any:
    principal = current(request)
    proposal, challenge, viewer, keys = await proposal_view(principal, proposal_id)
    key = form_text(data, "stage", 60)
    if key not in keys or viewer.kind != access.EVALUATOR:
        raise services.NotFound("proposal")
    criteria = await services.criteria_for(challenge, key)
    items, errors = [], {}
    for c in criteria:
        raw = form_text(data, f"value_{c.key}", 5).strip()
        justification = form_text(data, f"why_{c.key}", 5000)
        if not raw and not justification.strip():
            continue
        if not raw.isdigit():
            errors[f"value_{c.key}"] = _("must be a whole number from 0 to %(max)s", max=c.scale_max)
            continue
        items.append(schemas.ScoreIn(criterion=c.key, value=int(raw), justification=justification))
    try:
        if errors:
            raise DomainError(detail="invalid", status=422)
        await services.score(principal, proposal_id, schemas.ScoresIn(stage=key, scores=items))
    except DomainError as exc:
        if exc.status == 404:
            raise
        for e in exc.errors:  # scores[i].value -> value_<criterion>
            if e.field.startswith("scores["):
                i, _sep, part = e.field[7:].partition("].")
                name = "value" if part == "value" else "why"
                errors[f"{name}_{items[int(i)].criterion}"] = _(e.message)
            else:
                errors[e.field] = _(e.message)
        return await _score_page(request, proposal, challenge, viewer, keys, key, status_code=exc.status, errors=errors, form=dict(data))
    return see_other(f"/challenges/{challenge['id']}/board?stage={key}", _("Scores saved."))


@post("/challenges/{challenge_id:str}/board/evaluators", opt=allow("civil_servant"), include_in_schema=False)
async def assign(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Redirect:
    email = form_text(data, "email", 254).strip().lower()
    user = await User.select(User.id).where(User.email == email).first()
    try:
        if user is None:
            raise invalid("email", "is not the address of an evaluator")
        await services.assign_evaluator(current(request), challenge_id, str(user["id"]))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/challenges/{challenge_id}/board", "; ".join(errors_by_field(exc).values()), error=True)
    return see_other(f"/challenges/{challenge_id}/board", _("Evaluator assigned. They must declare conflicts of interest first."))


@post("/challenges/{challenge_id:str}/board/blind", opt=allow("civil_servant"), include_in_schema=False)
async def set_blind(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Redirect:
    try:
        await services.set_blind(current(request), challenge_id, form_text(data, "blind", 5) == "yes")
    except DomainError as exc:
        if exc.status == 404:
            raise
        return see_other(f"/challenges/{challenge_id}/board", _(exc.detail), error=True)
    return see_other(f"/challenges/{challenge_id}/board", _("Saved."))


async def report_context(request: Request[Any, Any, Any], challenge_id: str, stage: str) -> dict:
    """Everything the evaluation report shows: criteria, evaluators, ranking, decisions and feedback."""
    principal = current(request)
    challenge = await services.buyer_challenge(principal, challenge_id)
    ranking = await services.buyer_ranking(principal, challenge_id, stage)
    from marketplace.proposals.tables import Decision

    feedback = {str(d["proposal"]): d for d in await Decision.select().where(
        (Decision.stage == ranking.stage) & Decision.proposal.is_in([uuid.UUID(i.proposal_id) for i in ranking.items] or [uuid.uuid4()]))}
    buyer = await Challenge.select(Challenge.buyer.name.as_alias("buyer_name")).where(Challenge.id == challenge["id"]).first()
    return {"challenge": challenge, "buyer_name": buyer["buyer_name"], "spec": template_of(challenge).stage(ranking.stage),
            "ranking": ranking, "feedback": feedback, "progress": await services.progress(principal, challenge_id, ranking.stage),
            "justifications": await services.justifications(challenge, ranking.stage, [i.proposal_id for i in ranking.items])}


@get("/challenges/{challenge_id:str}/stages/{stage:str}/report", opt=allow(*BUYER), include_in_schema=False)
async def report(request: Request[Any, Any, Any], challenge_id: str, stage: str) -> Template:
    return view(request, "evaluation/report.html", **await report_context(request, challenge_id, stage))


@get("/challenges/{challenge_id:str}/stages/{stage:str}/report.pdf", opt=allow(*BUYER), include_in_schema=False,
     media_type="application/pdf")
async def report_pdf(request: Request[Any, Any, Any], challenge_id: str, stage: str) -> Response[bytes]:
    """The evaluation report as a PDF (rendered each time: scores may still change until the stage closes)."""
    from marketplace.documents.rendering import render_pdf_async

    context = await report_context(request, challenge_id, stage)
    pdf = await render_pdf_async("evaluation_report.html", current_locale.get(), reference=f"{context['challenge']['title'][:60]} · {stage}",
                                 **context)
    return Response(content=pdf, media_type="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"evaluation-report-{stage}.pdf", inline=True), "Cache-Control": "private, no-store"})
