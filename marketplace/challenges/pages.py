"""Public pages: the catalogue, a challenge's page, its versions; and the forms to ask, answer, follow and co-sponsor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from marketplace.challenges import catalogue, dialogue, documents, matchmaking, schemas, services
from marketplace.challenges.controllers import ASKERS
from marketplace.challenges.services import TEAM_ROLES
from marketplace.core.auth import PUBLIC, allow, current
from marketplace.core.clock import as_utc, now
from marketplace.core.errors import DomainError
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.web.pages import confirmed, errors_by_field, form_text, page, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def parse_time(value: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None


def _euros_to_cents(value: str) -> str | None:
    value = value.strip().replace(" ", "").replace(",", ".")
    if not value:
        return None
    try:
        return str(int(round(float(value) * 100)))
    except ValueError:
        return value  # the catalogue names it as not a number


@get("/challenges", opt=allow(PUBLIC), include_in_schema=False)
async def catalogue_page(request: Request[Any, Any, Any]) -> Template:
    """Search and browse published challenges."""
    params = {k: request.query_params.get(k, "") for k in ("q", "topic", "cpv", "status", "min_budget", "max_budget", "sort", "cursor")}
    query = catalogue.CatalogueQuery(
        q=params["q"] or None, topic=params["topic"] or None, cpv=params["cpv"] or None, status=params["status"] or catalogue.JOINABLE,
        min_budget=_euros_to_cents(params["min_budget"]), max_budget=_euros_to_cents(params["max_budget"]),
        sort=params["sort"] or None, cursor=params["cursor"] or None,
    )
    try:
        result = await catalogue.search(query)
    except DomainError as exc:
        return page(request, "challenges/catalogue.html", status_code=exc.status, form=params, errors=errors_by_field(exc),
                    items=[], next_url=None)
    from urllib.parse import urlencode

    kept = {k: v for k, v in params.items() if v and k != "cursor"}
    next_url = "/challenges?" + urlencode({**kept, "cursor": result.next_cursor}) if result.next_cursor else None
    suggestion_url = "/challenges?" + urlencode({**kept, "q": result.did_you_mean}) if result.did_you_mean else None
    items = [{**_plain(item), "closes": parse_time(item.closes_at)} for item in result.items]
    principal = request.scope.get("user")
    searched = any(params[k] for k in ("q", "topic", "cpv", "min_budget", "max_budget"))
    return page(request, "challenges/catalogue.html", form=params, items=items, next_url=next_url, similar=result.similar,
                did_you_mean=result.did_you_mean, suggestion_url=suggestion_url,
                can_save_alert=searched and principal is not None and principal.has_role(*ASKERS),
                sign_in_to_save=("/signin?" + urlencode({"next": "/challenges?" + urlencode(kept)})) if searched and principal is None else None,
                alert_q=result.did_you_mean if result.similar else params["q"])


def _plain(struct: Any) -> dict:
    import msgspec

    return msgspec.to_builtins(struct)


async def _challenge_context(request: Request[Any, Any, Any], challenge_id: str) -> dict:
    principal = request.scope.get("user")
    row = await services.visible_row(principal, challenge_id)
    stage_rows = await services.stage_rows(row["id"])  # read once: the stages shown and the one open now
    out = await services.challenge_out(row, stage_rows)
    template = services.template_of(row)
    stages = []
    for s in out.stages:
        spec = template.stage(s.key) if template and s.key in template.stage_keys else None
        stages.append({**_plain(s), "opens": parse_time(s.opens_at), "closes": parse_time(s.closes_at),
                       "description": spec.description if spec else "", "fields": spec.fields if spec else (),
                       "documents": spec.documents if spec else ()})
    team = services.is_buyer_team(principal, row)
    qa_open = row["status"] == "published" and row["qa_closes_at"] is not None and now() <= as_utc(row["qa_closes_at"])
    questions_off = None
    open_stage = engine.open_stage_key(stage_rows, now())
    if qa_open and template is not None and not engine.allowed(template, open_stage, "ask_question"):
        qa_open = False  # the stage open now (or none) does not take questions: the form is not offered, and why
        questions_off = engine.FeatureOff(template, open_stage, "ask_question").detail
    can_ask = principal is not None and principal.has_role(*ASKERS) and qa_open
    other_bodies = [] if principal is None else [o for o in principal.organisations(*TEAM_ROLES) if o != str(row["buyer"])]
    return {
        "challenge": out, "c": _plain(out), "stages": stages, "is_team": team, "qa_open": qa_open, "can_ask": can_ask, "questions_off": questions_off,
        "qa_closes": parse_time(out.qa_closes_at), "published": parse_time(out.published_at),
        "questions": await dialogue.list_questions(principal, challenge_id, row),
        "following": await matchmaking.is_following(principal, row["id"]),
        "can_follow": principal is not None and row["status"] in ("published", "awarded", "closed"),
        "can_cosponsor": bool(other_bodies) and row["status"] == "published",
        "procedure_template": template or engine.latest("light"),
        "take_part": await _take_part(principal, row, out),
        "team_links": await _team_links(principal, row, stages) if team else None,
        "documents": documents.grouped(await documents.rows_of(row["id"])),
    }


async def _team_links(principal: Any, row: dict, stages: list[dict]) -> dict:
    """Where the buyer team goes next: the stage board, the evaluation report of each stage whose deadline
    passed, the award form (procurement officers) and the challenge's awards and contracts."""
    from marketplace.awards.tables import Award, Contract

    moment = now()
    return {
        "board": row["status"] != "draft" and bool(stages),
        "reports": [s for s in stages if s["closes"] is not None and s["closes"] <= moment],
        "award": row["status"] == "published" and principal.has_role("procurement_officer", organisation_id=str(row["buyer"])),
        "awards": await Award.select(Award.id, Award.company.name.as_alias("company_name")).where(Award.challenge == row["id"]),
        "contracts": await Contract.select(Contract.id, Contract.number, Contract.status).where(Contract.challenge == row["id"]),
    }


async def _take_part(principal: Any, row: dict, out: schemas.ChallengeOut) -> dict | None:
    """For company and incubator members: their proposals on this challenge, and whether one may be started
    (only while the first stage is open, for a company of theirs that has none yet)."""
    if principal is None or not principal.has_role(*ASKERS) or row["status"] != "published":
        return None
    import uuid

    from marketplace.proposals import access
    from marketplace.proposals.tables import Proposal

    companies = await access.team_companies(principal)
    proposals = [] if not companies else await Proposal.select(
        Proposal.id, Proposal.status, Proposal.company.name.as_alias("company_name")).where(
        (Proposal.challenge == row["id"]) & Proposal.company.is_in([uuid.UUID(c) for c in companies])).order_by(Proposal.created_at)
    first = out.stages[0] if out.stages else None
    moment = now()
    open_now = (first is not None and out.current_stage == first.key and first.status in ("open", "pending")
                and parse_time(first.opens_at) <= moment < parse_time(first.closes_at))
    return {"proposals": proposals, "has_company": bool(companies), "open_now": open_now,
            "can_start": open_now and len(proposals) < len(companies), "closes": parse_time(first.closes_at) if first else None}


@get("/challenges/{challenge_id:str}", opt=allow(PUBLIC), include_in_schema=False)
async def challenge_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """A challenge: the problem, timeline, budget, stages and what each asks, answered questions, how to take part."""
    return page(request, "challenges/challenge.html", **await _challenge_context(request, challenge_id))


@get("/challenges/{challenge_id:str}/versions", opt=allow(PUBLIC), include_in_schema=False)
async def versions_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """The change log of a challenge."""
    row = await services.visible_row(request.scope.get("user"), challenge_id)
    versions = await catalogue.versions(request.scope.get("user"), challenge_id)
    items = [{**_plain(v), "created": parse_time(v.created_at)} for v in reversed(versions.items)]
    return page(request, "challenges/versions.html", c=row, items=items)


@post("/challenges/{challenge_id:str}/questions", opt=allow(*ASKERS), include_in_schema=False)
async def ask_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    """A company or incubator member asks a question from the challenge page."""
    text = form_text(data, "text", 4000)
    try:
        await dialogue.ask(current(request), challenge_id, schemas.QuestionIn(text=text))
    except DomainError as exc:
        context = await _challenge_context(request, challenge_id)
        return page(request, "challenges/challenge.html", status_code=exc.status, form={"text": text}, errors=errors_by_field(exc), **context)
    notice = _("Thank you. Your question was sent to the buyer; its answer will be public, without your name.")
    return see_other(f"/challenges/{challenge_id}#questions", notice)


@post("/questions/{question_id:str}/answer", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def answer_page(request: Request[Any, Any, Any], question_id: str, data: Form) -> Any:
    """The buyer team answers from the questions page."""
    text = form_text(data, "text", 10_000)
    try:
        answered = await dialogue.answer(current(request), question_id, schemas.AnswerIn(text=text))
    except DomainError as exc:
        from marketplace.challenges.tables import Question

        question = await Question.select(Question.challenge).where(Question.id == services.parse_id(question_id, "question")).first()
        if question is None:
            raise
        context = await _questions_context(request, str(question["challenge"]))
        return page(request, "challenges/questions.html", status_code=exc.status, errors={question_id: errors_by_field(exc).popitem()[1]},
                    form={question_id: text}, **context)
    return see_other(f"/challenges/{answered.challenge_id}/questions", _("The answer is published."))


async def _questions_context(request: Request[Any, Any, Any], challenge_id: str) -> dict:
    row = await services.team_row(current(request), challenge_id)
    questions = await dialogue.list_questions(current(request), challenge_id)
    items = [{**_plain(q), "asked": parse_time(q.asked_at)} for q in questions.items]
    return {"c": row, "items": items, "blocking": await services.unanswered_questions_blocking_close(row["id"])}


@get("/challenges/{challenge_id:str}/questions", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def questions_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """The buyer team's view of every question, with who asked and a form to answer each."""
    return page(request, "challenges/questions.html", **await _questions_context(request, challenge_id))


@post("/challenges/{challenge_id:str}/follow", opt=allow(*ASKERS, *TEAM_ROLES), include_in_schema=False)
async def follow_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    following = form_text(data, "follow", 5) != "0"
    await matchmaking.follow(current(request), challenge_id, following)
    notice = _("You follow this challenge: we will tell you of amendments.") if following else _("You no longer follow this challenge.")
    return see_other(f"/challenges/{challenge_id}", notice)


@post("/challenges/{challenge_id:str}/co-sponsors", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def co_sponsor_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    statement = form_text(data, "statement", 5000)
    try:
        await matchmaking.co_sponsor(current(request), challenge_id, schemas.CoSponsorIn(statement=statement,
                                                                                         organisation_id=form_text(data, "organisation_id", 64) or None))
    except DomainError as exc:
        context = await _challenge_context(request, challenge_id)
        return page(request, "challenges/challenge.html", status_code=exc.status, errors={"statement": errors_by_field(exc).popitem()[1]},
                    form={"statement": statement}, **context)
    return see_other(f"/challenges/{challenge_id}", _("Your organisation now co-sponsors this challenge."))


async def _alerts(request: Request[Any, Any, Any]) -> list[dict]:
    """The member's alerts, each with its plain-words description."""
    from marketplace.challenges.alert_words import describe

    return [{"id": a.id, "description": describe(a), "catalogue_url": a.catalogue_url}
            for a in (await matchmaking.subscriptions_of(current(request))).items]


@get("/subscriptions", opt=allow(*ASKERS), include_in_schema=False)
async def subscriptions_page(request: Request[Any, Any, Any]) -> Template:
    """Topics, CPV prefixes and keywords to be told about, and saved searches."""
    return page(request, "challenges/subscriptions.html", items=await _alerts(request))


@post("/subscriptions/search", opt=allow(*ASKERS), include_in_schema=False)
async def save_search_page(request: Request[Any, Any, Any], data: Form) -> Any:
    """Save the catalogue's current search (words and filters) as an alert."""
    form = {k: form_text(data, k, 200) for k in ("q", "topic", "cpv", "min_budget", "max_budget")}
    try:
        from marketplace.web.pages import convert

        budgets = {k: _euros_to_cents(form[k]) for k in ("min_budget", "max_budget")}
        payload = convert({"search": {"q": form["q"], "topic": form["topic"], "cpv": form["cpv"],
                                      **{k: int(v) if v and v.isdigit() else v for k, v in budgets.items()}}}, schemas.SubscriptionIn)
        await matchmaking.subscribe(current(request), payload)
    except DomainError as exc:
        return page(request, "challenges/subscriptions.html", status_code=exc.status, errors=errors_by_field(exc),
                    items=await _alerts(request))
    return see_other("/subscriptions", _("Search saved. We will tell you once about every new challenge it finds."))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


@post("/subscriptions", opt=allow(*ASKERS), include_in_schema=False)
async def subscribe_page(request: Request[Any, Any, Any], data: Form) -> Any:
    form = {k: form_text(data, k, 2000) for k in ("topics", "cpv_prefixes", "keywords")}
    try:
        from marketplace.web.pages import convert

        payload = convert({k: _split(v) for k, v in form.items()}, schemas.SubscriptionIn)
        await matchmaking.subscribe(current(request), payload)
    except DomainError as exc:
        errors = {k.split("[")[0]: v for k, v in errors_by_field(exc).items()}
        return page(request, "challenges/subscriptions.html", status_code=exc.status, form=form, errors=errors,
                    items=await _alerts(request))
    return see_other("/subscriptions", _("Subscribed. We will tell you once about every matching new challenge."))


@post("/subscriptions/{subscription_id:str}/delete", opt=allow(*ASKERS), include_in_schema=False)
async def unsubscribe_page(request: Request[Any, Any, Any], subscription_id: str) -> Any:
    await matchmaking.unsubscribe(current(request), subscription_id)
    return see_other("/subscriptions", _("Subscription removed."))


@post("/challenges/{challenge_id:str}/close", opt=allow("procurement_officer"), include_in_schema=False)
async def close_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    """A procurement officer ends the challenge without an award, with a public reason."""
    reason = form_text(data, "reason", 5000)
    try:
        confirmed(data)
        await services.close_without_award(current(request), challenge_id, reason)
    except DomainError as exc:
        context = await _challenge_context(request, challenge_id)
        errors = {"reason" if name != "confirm" else name: text for name, text in errors_by_field(exc).items()}
        return page(request, "challenges/challenge.html", status_code=exc.status, errors=errors, form={"reason": reason}, **context)
    return see_other(f"/challenges/{challenge_id}", _("The challenge is closed without award. Followers are told why."))


@post("/challenges/{challenge_id:str}/archive", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def archive_page(request: Request[Any, Any, Any], challenge_id: str) -> Any:
    await services.archive(current(request), challenge_id)
    return see_other(f"/challenges/{challenge_id}", _("Archived."))
