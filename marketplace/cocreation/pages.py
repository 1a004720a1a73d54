"""Readiness self-check pages: take a questionnaire, see the scores, the roadmap and progress over time."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from marketplace.challenges.pages import parse_time
from marketplace.cocreation import questionnaires, schemas, services
from marketplace.core.auth import allow, current
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.web.pages import errors_by_field, form_text, page, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _organisation(request: Request[Any, Any, Any]) -> str:
    orgs = current(request).organisations(*services.SELF_CHECK_ROLES)
    if not orgs:
        raise NotFound("organisation")
    return orgs[0]


def _questionnaire(questionnaire_id: str) -> questionnaires.Questionnaire:
    q = questionnaires.get(questionnaire_id)
    if q is None:
        raise NotFound("questionnaire")
    return q


@get("/readiness", opt=allow(*services.SELF_CHECK_ROLES), include_in_schema=False)
async def readiness_page(request: Request[Any, Any, Any]) -> Template:
    """Both questionnaires with your public body's results over time."""
    org = _organisation(request)
    rows = await services.history(current(request), org)
    sections = []
    for q in questionnaires.all_questionnaires().values():
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


ROUTES = [readiness_page, questionnaire_page, answer_page, result_page]
