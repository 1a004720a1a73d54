"""Readiness self-check pages: take a questionnaire, see the scores, the roadmap and progress over time."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from marketplace.challenges.pages import parse_time
from marketplace.challenges.services import TEAM_ROLES, team_row
from marketplace.cocreation import experiments, painpoints, questionnaires, schemas, services
from marketplace.core.auth import BUYER_ROLES, PUBLIC, allow, current
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.experiments.pages import EXPERIMENT_SECTIONS, RESULT_SECTIONS
from marketplace.web.pages import errors_by_field, form_text, page, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _organisation(request: Request[Any, Any, Any]) -> str:
    orgs = current(request).organisations(*services.SELF_CHECK_ROLES)
    if not orgs:
        raise NotFound("organisation")
    return orgs[0]


def _questionnaire(questionnaire_id: str) -> questionnaires.Questionnaire:
    q = questionnaires.get(questionnaire_id)
    if q is None or q.audience != "public_body":
        raise NotFound("questionnaire")
    return q


@get("/readiness", opt=allow(*services.SELF_CHECK_ROLES), include_in_schema=False)
async def readiness_page(request: Request[Any, Any, Any]) -> Template:
    """Both questionnaires with your public body's results over time."""
    org = _organisation(request)
    rows = await services.history(current(request), org)
    sections = []
    for q in questionnaires.for_public_bodies():
        mine = [r for r in rows if r["questionnaire"] == q.id]
        sections.append({"q": services.questionnaire_out(q), "checks": [await services.self_check_out(r, compared=None) for r in mine]})
    return page(request, "cocreation/readiness.html", sections=sections, parse_time=parse_time)


@get("/readiness/{questionnaire_id:str}", opt=allow(*services.SELF_CHECK_ROLES), include_in_schema=False)
async def questionnaire_page(request: Request[Any, Any, Any], questionnaire_id: str) -> Template:
    return page(request, "cocreation/questionnaire.html", q=services.questionnaire_out(_questionnaire(questionnaire_id)))


@post("/readiness/{questionnaire_id:str}", opt=allow(*services.SELF_CHECK_ROLES), include_in_schema=False)
async def answer_page(request: Request[Any, Any, Any], questionnaire_id: str, data: Form) -> Any:
    q = _questionnaire(questionnaire_id)
    form = {x.key: form_text(data, x.key, 2) for x in q.questions}
    subject = form_text(data, "subject", 200)
    answers = {k: int(v) for k, v in form.items() if v.isdigit() and 1 <= int(v) <= 5}
    try:
        check = await services.answer(current(request), _organisation(request),
                                      schemas.SelfCheckIn(questionnaire=q.id, answers=answers, subject=subject))
    except DomainError as exc:
        errors = {k.removeprefix("answers."): v for k, v in errors_by_field(exc).items()}
        errors = {k: (_("Choose an answer.") if k in form else v) for k, v in errors.items()}
        if "subject" in errors:
            errors["subject"] = _("Name the service or problem.")
        return page(request, "cocreation/questionnaire.html", status_code=exc.status, q=services.questionnaire_out(q),
                    form={**form, "subject": subject}, errors=errors)
    return see_other(f"/readiness/checks/{check.id}", _("Your answers are saved."))


@get("/readiness/checks/{check_id:str}", opt=allow(*services.SELF_CHECK_ROLES), include_in_schema=False)
async def result_page(request: Request[Any, Any, Any], check_id: str) -> Template:
    row = await services.get_self_check(current(request), check_id)
    check = await services.self_check_out(row)
    q = questionnaires.get(row["questionnaire"])
    return page(request, "cocreation/result.html", check=check, q=services.questionnaire_out(q),
                compare_from=services.COMPARE_FROM, parse_time=parse_time)


# --- around an experiment: the co-creation review and the right to challenge a rule ---------------

PARTY_ROLES = (*BUYER_ROLES, "company_member")


async def _experiment_section(row: dict[str, Any], principal: Any) -> tuple[str, dict[str, Any]] | None:
    party = experiments.party_of(principal, row) if principal else None
    if party is None:
        return None
    reviews = await experiments.reviews_for(principal, row["id"])
    return "cocreation/_experiment.html", {
        "experiment_id": str(row["id"]), "finished": row["status"] == "finished", "running": row["status"] == "running",
        "reviews": reviews, "reviewed": any(r.party == party for r in reviews.items), "party": party,
        "review_form": services.questionnaire_out(questionnaires.get(experiments.REVIEW)),
        "requests": await experiments.rule_challenges(row["id"]), "form": {}, "errors": {},
    }


async def _result_section(row: dict[str, Any], _principal: Any) -> tuple[str, dict[str, Any]] | None:
    reviews = await experiments.public_reviews(row["id"])
    requests = await experiments.rule_challenges(row["id"], decided_only=True)
    if not reviews and not requests:
        return None
    return "cocreation/_result.html", {"reviews": reviews, "requests": requests}


if _experiment_section not in EXPERIMENT_SECTIONS:
    EXPERIMENT_SECTIONS.append(_experiment_section)
if _result_section not in RESULT_SECTIONS:
    RESULT_SECTIONS.append(_result_section)


def _back(experiment_id: str, anchor: str, notice: str) -> Any:
    return see_other(f"/experiments/{experiment_id}", notice)


@post("/experiments/{experiment_id:str}/co-creation-review", opt=allow(*PARTY_ROLES), include_in_schema=False)
async def review_page(request: Request[Any, Any, Any], experiment_id: str, data: Form) -> Any:
    q = questionnaires.get(experiments.REVIEW)
    answers = {x.key: int(v) for x in q.questions if (v := form_text(data, x.key, 2)).isdigit() and 1 <= int(v) <= 5}
    try:
        await experiments.submit_review(current(request), experiment_id,
                                        schemas.ReviewIn(answers=answers, comment=form_text(data, "comment", 5000)))
    except DomainError as exc:
        return see_other(f"/experiments/{experiment_id}", _("Answer every statement to send your review.")
                         if exc.status == 422 else errors_by_field(exc).get("_form") or next(iter(errors_by_field(exc).values())))
    return _back(experiment_id, "co-creation-review", _("Thank you: your review is saved."))


@post("/experiments/{experiment_id:str}/right-to-challenge", opt=allow(*PARTY_ROLES), include_in_schema=False)
async def rule_challenge_page(request: Request[Any, Any, Any], experiment_id: str, data: Form) -> Any:
    form = {k: form_text(data, k, 5000) for k in ("rule", "reason", "safeguards", "duration_days", "authority_name",
                                                    "authority_email")}
    from marketplace.web.pages import convert

    try:
        payload = convert({"rule": form["rule"], "reason": form["reason"], "safeguards": form["safeguards"],
                           "duration_days": form["duration_days"] or "0",
                           "authority": {"name": form["authority_name"], "email": form["authority_email"]}},
                          schemas.RuleChallengeIn)
        await experiments.request_rule_challenge(current(request), experiment_id, payload)
    except DomainError as exc:
        errors = {k.replace("authority.", "authority_"): v for k, v in errors_by_field(exc).items()}
        principal = current(request)
        from marketplace.experiments.pages import experiment_page_context

        context = await experiment_page_context(request, principal, experiment_id)
        for i, (name, section) in enumerate(context["sections"]):
            if name == "cocreation/_experiment.html":
                context["sections"][i] = (name, {**section, "form": form, "errors": errors})
        return page(request, "experiments/experiment.html", status_code=exc.status, **context)
    return _back(experiment_id, "right-to-challenge", _("Your request was sent to the authority."))


@get("/right-to-challenge/{request_id:str}/decide", opt=allow(PUBLIC), include_in_schema=False)
async def decide_form(request: Request[Any, Any, Any], request_id: str, token: str = "") -> Template:
    """The named authority's page, reached by the single-use link of its e-mail."""
    row, experiment = await experiments.request_for_authority(request_id, token)
    return page(request, "cocreation/decide.html", r=experiments.rule_out(row), experiment=experiment, token=token)


@post("/right-to-challenge/{request_id:str}/decide", opt=allow(PUBLIC), include_in_schema=False)
async def decide_page(request: Request[Any, Any, Any], request_id: str, data: Form) -> Any:
    token = form_text(data, "token", 200)
    form = {k: form_text(data, k, 5000) for k in ("decision", "reasons", "decided_by")}
    try:
        from marketplace.web.pages import convert

        await experiments.decide_rule_challenge(request_id, convert({**form, "token": token}, schemas.RuleDecisionIn))
    except DomainError as exc:
        row, experiment = await experiments.request_for_authority(request_id, token)
        return page(request, "cocreation/decide.html", status_code=exc.status, r=experiments.rule_out(row),
                    experiment=experiment, token=token, form=form, errors=errors_by_field(exc))
    row, experiment = await experiments.request_for_authority(request_id, token)
    return page(request, "cocreation/decide.html", r=experiments.rule_out(row), experiment=experiment, token=token)


@post("/right-to-challenge/{request_id:str}/outcome", opt=allow(*PARTY_ROLES), include_in_schema=False)
async def rule_outcome_page(request: Request[Any, Any, Any], request_id: str, data: Form) -> Any:
    out = await experiments.record_rule_outcome(current(request), request_id,
                                                schemas.RuleOutcomeIn(note=form_text(data, "note", 5000) or " "))
    return _back(out.experiment_id, "right-to-challenge", _("What came of the request is recorded."))


ROUTES = [readiness_page, questionnaire_page, answer_page, result_page, review_page, rule_challenge_page, decide_form,
          decide_page, rule_outcome_page]


# --- citizens' pain points ---------------------------------------------------------------------

async def _public_call(challenge_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return await painpoints.public_entries(challenge_id)


@get("/challenges/{challenge_id:str}/pain-points", opt=allow(PUBLIC), include_in_schema=False)
async def pain_points_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """The public call: where does the service fail you, along its user journey? Ideas welcome."""
    call, entries = await _public_call(challenge_id)
    return page(request, "cocreation/pain_points.html", call=call, entries=entries, parse_time=parse_time)


@post("/challenges/{challenge_id:str}/pain-points", opt=allow(PUBLIC), include_in_schema=False)
async def add_pain_point_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    form = {k: form_text(data, k, 3000) for k in ("kind", "step", "text", "name")}
    consent = form_text(data, "consent_to_quote", 5) == "yes"
    ip = request.client.host if request.client else "unknown"
    try:
        await painpoints.submit(challenge_id, request.scope.get("user"), ip, form["kind"] or "pain_point", form["step"],
                                form["text"], form["name"], consent)
    except DomainError as exc:
        call, entries = await _public_call(challenge_id)
        return page(request, "cocreation/pain_points.html", status_code=exc.status, call=call, entries=entries,
                    form={**form, "consent_to_quote": "yes" if consent else ""}, errors=errors_by_field(exc),
                    parse_time=parse_time)
    return see_other(f"/challenges/{challenge_id}/pain-points", _("Thank you: your contribution is published."))


@post("/pain-points/{entry_id:str}/support", opt=allow(PUBLIC), include_in_schema=False)
async def support_page(request: Request[Any, Any, Any], entry_id: str, data: Form) -> Any:
    challenge_id = form_text(data, "challenge_id", 40)
    ip = request.client.host if request.client else "unknown"
    try:
        await painpoints.support(entry_id, request.scope.get("user"), ip)
    except DomainError as exc:
        return see_other(f"/challenges/{challenge_id}/pain-points", errors_by_field(exc).get("_form") or _("Not counted."))
    return see_other(f"/challenges/{challenge_id}/pain-points", _("Your support is counted."))


@get("/challenges/{challenge_id:str}/pain-points/manage", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def manage_pain_points_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """For the buyer team: open the call, then read the entries by journey step and support; hide, answer, quote."""
    row = await team_row(current(request), challenge_id)
    try:
        grouped = await painpoints.team_entries(current(request), challenge_id)
    except NotFound:
        grouped = None
    return page(request, "cocreation/manage_pain_points.html", c=row, grouped=grouped, parse_time=parse_time)


@post("/challenges/{challenge_id:str}/pain-points/open", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def open_call_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    from datetime import timedelta

    from marketplace.core.clock import now

    form = {k: form_text(data, k, 3000) for k in ("intro", "steps", "days")}
    steps = [s.strip() for s in form["steps"].splitlines() if s.strip()]
    days = int(form["days"]) if form["days"].isdigit() else 0
    try:
        if not 1 <= days <= 365:
            from marketplace.core.errors import invalid

            raise invalid("days", _("Give a number of days between 1 and 365."))
        await painpoints.open_call(current(request), challenge_id, form["intro"], steps, now() + timedelta(days=days))
    except DomainError as exc:
        row = await team_row(current(request), challenge_id)
        return page(request, "cocreation/manage_pain_points.html", status_code=exc.status, c=row, grouped=None, form=form,
                    errors=errors_by_field(exc), parse_time=parse_time)
    return see_other(f"/challenges/{challenge_id}/pain-points/manage", _("The call is open: share its link with the people who use the service."))


@post("/pain-points/{entry_id:str}/manage", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def manage_entry_page(request: Request[Any, Any, Any], entry_id: str, data: Form) -> Any:
    action = form_text(data, "action", 20)
    challenge_id = form_text(data, "challenge_id", 40)
    principal = current(request)
    try:
        if action == "hide":
            await painpoints.hide(principal, entry_id, form_text(data, "reason", 1000))
        elif action == "quote":
            await painpoints.quote(principal, entry_id)
        else:
            await painpoints.report_back(principal, entry_id, form_text(data, "response", 20), form_text(data, "reason", 2000))
    except DomainError as exc:
        errors = errors_by_field(exc)
        return see_other(f"/challenges/{challenge_id}/pain-points/manage", errors.get("_form") or next(iter(errors.values())))
    return see_other(f"/challenges/{challenge_id}/pain-points/manage", _("Saved."))


ROUTES += [pain_points_page, add_pain_point_page, support_page, manage_pain_points_page, open_call_page, manage_entry_page]
