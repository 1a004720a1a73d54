"""The guided editor for civil servants (drafts saved incomplete, amendments) and the publish page for procurement officers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.response import Template

from marketplace.challenges import approval, schemas, services
from marketplace.challenges.pages import Form, parse_time
from marketplace.challenges.services import TEAM_ROLES
from marketplace.challenges.tables import Challenge
from marketplace.core.auth import allow, current
from marketplace.core.clock import as_utc, now
from marketplace.core.errors import DomainError, FieldError, Invalid
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.web.pages import convert, errors_by_field, form_text, page, see_other

LOCAL = ZoneInfo("Europe/Brussels")  # what a civil servant types in a date field means local time
TEXTS = ("title", "summary", "problem", "affected_users", "tried_before", "desired_outcomes", "constraints")


def _local_input(value: datetime | None) -> str:
    return as_utc(value).astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M") if value else ""


def _from_local(name: str, value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=LOCAL).astimezone(ZoneInfo("UTC"))
    except ValueError:
        raise Invalid(FieldError(name, "is not a date and time")) from None


def _read_time(name: str, value: str, unreadable: list[FieldError]) -> datetime | None:
    try:
        return _from_local(name, value)
    except Invalid as exc:
        unreadable.extend(exc.errors)
        return None


def parse_time_or_none(value: datetime | None) -> datetime | None:
    return as_utc(value) if value else None


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def _form_from_row(out: schemas.ChallengeOut) -> dict[str, str]:
    form = {name: getattr(out, name) for name in TEXTS}
    form.update(topics=", ".join(out.topics), cpv_codes=", ".join(out.cpv_codes), budget_cap=f"{out.budget_cap.amount / 100:.2f}",
                max_duration_days=str(out.max_duration_days), procedure=out.procedure.template,
                qa_closes_at=_local_input(parse_time(out.qa_closes_at)))
    closes = {s.stage: s.closes_at for s in out.schedule} | {s.key: s.closes_at for s in out.stages}
    for key, value in closes.items():
        form[f"schedule_{key}"] = _local_input(parse_time(value))
    return form


def _request(data: dict[str, Any], template_id: str, published: bool, struct: type) -> Any:
    """The request Struct the form stands for; every unreadable or wrong field is named at once."""
    unreadable: list[FieldError] = []
    body = _payload(data, template_id, published, unreadable)
    try:
        payload = convert(body, struct)
    except Invalid as exc:
        raise Invalid(unreadable + exc.errors) from None
    if unreadable:
        raise Invalid(unreadable)
    return payload


def _payload(data: dict[str, Any], template_id: str, published: bool, unreadable: list[FieldError]) -> dict[str, Any]:
    """The API body the form stands for (only what the form can express); what cannot be read goes to `unreadable`."""
    form = {name: form_text(data, name, 20_000) for name in data}
    body: dict[str, Any] = {name: form.get(name, "") for name in TEXTS}
    body["topics"], body["cpv_codes"] = _list(form.get("topics", "")), _list(form.get("cpv_codes", ""))
    budget = form.get("budget_cap", "").strip().replace(" ", "").replace(",", ".")
    if budget:
        try:
            body["budget_cap"] = {"amount": int(round(float(budget) * 100)), "currency": "EUR"}
        except ValueError:
            unreadable.append(FieldError("budget_cap", "is not an amount in euros"))
    if form.get("max_duration_days", "").strip():
        body["max_duration_days"] = form["max_duration_days"].strip()
    if not published:
        body["procedure"] = {"template": form.get("procedure") or template_id}
    template = engine.latest(form.get("procedure") or template_id) or engine.latest(template_id)
    schedule = []
    for key in template.stage_keys if template else []:
        when = _read_time(f"schedule_{key}", form.get(f"schedule_{key}", ""), unreadable)
        if when is not None:
            schedule.append({"stage": key, "closes_at": when})
    body["schedule"] = schedule
    qa = _read_time("qa_closes_at", form.get("qa_closes_at", ""), unreadable)
    if qa is not None or not published:
        body["qa_closes_at"] = qa
    if published:
        body["change_note"] = form.get("change_note", "")
    return body


def _field_errors(exc: DomainError) -> dict[str, str]:
    """API field names -> form field names."""
    out = {}
    for name, message in errors_by_field(exc).items():
        if name.startswith("schedule."):
            name = "schedule_" + name.split(".")[1]
        name = name.split("[")[0].split(".")[0]
        out.setdefault(name, message)
    return out


def _editor(request: Request[Any, Any, Any], status: int = 200, **context: Any) -> Template:
    context.setdefault("templates", engine.all_latest())
    return page(request, "challenges/editor.html", status_code=status, **context)


@get("/challenges/new", opt=allow("civil_servant"), include_in_schema=False)
async def new_draft_page(request: Request[Any, Any, Any]) -> Template:
    """An empty problem statement; save it as often as you like."""
    return _editor(request, form={"procedure": "light", "budget_cap": "30000.00", "max_duration_days": "90"}, c=None,
                   procedure_template=engine.latest("light"))


@post("/challenges/new", opt=allow("civil_servant"), include_in_schema=False)
async def create_draft_page(request: Request[Any, Any, Any], data: Form) -> Any:
    try:
        out = await services.create_draft(current(request), _request(data, "light", False, schemas.ChallengeIn))
    except DomainError as exc:
        form = {k: form_text(data, k, 20_000) for k in data}
        return _editor(request, exc.status, form=form, errors=_field_errors(exc), c=None,
                       procedure_template=engine.latest(form.get("procedure", "light")) or engine.latest("light"))
    return see_other(f"/challenges/{out.id}/edit", _("Draft saved. Only your team sees it."))


@get("/challenges/{challenge_id:str}/edit", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def edit_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    row = await services.team_row(current(request), challenge_id)
    out = await services.challenge_out(row)
    return _editor(request, form=_form_from_row(out), c=out, procedure_template=services.template_of(row),
                   approval_requested=parse_time_or_none(row["approval_requested_at"]),
                   approval=await approval.approval_state(row), labels=field_labels(),
                   can_request=row["status"] == "draft" and current(request).has_role("civil_servant", organisation_id=str(row["buyer"])),
                   can_approve=current(request).has_role("procurement_officer", organisation_id=str(row["buyer"])))


@post("/challenges/{challenge_id:str}/edit", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def save_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    row = await services.team_row(current(request), challenge_id)
    published = row["status"] == "published"
    try:
        await services.update_challenge(current(request), challenge_id,
                                        _request(data, row["procedure_template"], published, schemas.ChallengePatch))
    except DomainError as exc:
        form = {k: form_text(data, k, 20_000) for k in data}
        return _editor(request, exc.status, form=form, errors=_field_errors(exc), c=await services.challenge_out(row),
                       procedure_template=services.template_of(row))
    if published:
        return see_other(f"/challenges/{challenge_id}", _("Amendment published. Followers and bidders are told."))
    return see_other(f"/challenges/{challenge_id}/edit", _("Draft saved."))


@get("/challenges/{challenge_id:str}/publish", opt=allow("procurement_officer"), include_in_schema=False)
async def publish_form(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """What is still missing, and the approval form (publish now or on a date)."""
    principal = current(request)
    row = await services.visible_row(principal, challenge_id)
    if not principal.has_role("procurement_officer", organisation_id=str(row["buyer"])):
        from marketplace.core.errors import Forbidden

        raise Forbidden("Only a procurement officer of the buyer can approve publication.")
    problems, _plan = await services.publication_plan(row, None, now())
    return page(request, "challenges/publish.html", c=await services.challenge_out(row), problems=problems,
                approval=await approval.approval_state(row), labels=field_labels())


def field_labels() -> dict[str, str]:
    """The editor's label of each field a comment or a change can name, in the reader's language."""
    return {"title": _("Title"), "summary": _("Summary"), "problem": _("The problem"), "affected_users": _("Who is affected"),
            "tried_before": _("What was tried before"), "desired_outcomes": _("Desired outcomes"), "constraints": _("Constraints"),
            "topics": _("Topics"), "cpv_codes": _("CPV codes"), "budget_cap_cents": _("Test budget cap (EUR, excl. VAT)"),
            "budget_cap": _("Test budget cap (EUR, excl. VAT)"), "currency": _("Currency"),
            "max_duration_days": _("Longest experiment (days)"), "qa_closes_at": _("Questions close"),
            "procedure": _("Procedure"), "schedule": _("4. Deadlines (Brussels time)"), "": _("The whole draft"),
            "_form": _("The whole draft")}


@post("/challenges/{challenge_id:str}/send-back", opt=allow("procurement_officer"), include_in_schema=False)
async def send_back_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    """The officer returns the draft with a comment per field (any left empty is skipped) and overall."""
    comments = [{"field": name, "text": form_text(data, f"comment_{name}", 5000)} for name in approval.COMMENTABLE]
    comments.append({"field": "", "text": form_text(data, "comment_", 5000)})
    comments = [c for c in comments if c["text"].strip()]
    try:
        await approval.send_back(current(request), challenge_id, comments)
    except DomainError as exc:
        row = await services.visible_row(current(request), challenge_id)
        problems, _plan = await services.publication_plan(row, None, now())
        return page(request, "challenges/publish.html", status_code=exc.status, c=await services.challenge_out(row),
                    problems=problems, approval=await approval.approval_state(row), labels=field_labels(),
                    send_back_error=_("Write at least one comment, so the authors know what to change."))
    return see_other("/my/challenges", _("Sent back: the authors are told and see your comments in the editor."))




@post("/challenges/{challenge_id:str}/publish", opt=allow("procurement_officer"), include_in_schema=False)
async def publish_page(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    principal = current(request)
    try:
        when = _from_local("publish_at", form_text(data, "publish_at", 40))
        out = await services.publish(principal, challenge_id, schemas.PublishIn(publish_at=when))
    except DomainError as exc:
        row = await services.visible_row(principal, challenge_id)
        return page(request, "challenges/publish.html", status_code=exc.status, c=await services.challenge_out(row),
                    problems=exc.errors or [FieldError("_form", exc.detail)], form={"publish_at": form_text(data, "publish_at", 40)})
    notice = _("Published.") if out.status == "published" else _("Approved: it will be published on the chosen date.")
    return see_other(f"/challenges/{challenge_id}", notice)


@post("/challenges/{challenge_id:str}/request-approval", opt=allow("civil_servant"), include_in_schema=False)
async def request_approval_page(request: Request[Any, Any, Any], challenge_id: str) -> Any:
    """The civil servant's "Request approval" button: the buyer's procurement officers are told."""
    try:
        await approval.request_approval(current(request), challenge_id)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if not exc.errors:
            return see_other(f"/challenges/{challenge_id}/edit", _(exc.detail), error=True)
        marked = _field_errors(exc)
        return see_other(f"/challenges/{challenge_id}/edit", _("Not sent yet: complete the fields marked below first."),
                         errors=marked)
    return see_other(f"/challenges/{challenge_id}/edit", _("Approval requested: the procurement officers of your public body are told."))


@get("/my/challenges", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def my_challenges_page(request: Request[Any, Any, Any]) -> Template:
    """The challenges of the public bodies you work for, drafts included; for officers, the drafts awaiting approval."""
    principal = current(request)
    bodies = principal.organisations(*TEAM_ROLES)
    rows = await Challenge.select(Challenge.id, Challenge.title, Challenge.status, Challenge.updated_at, Challenge.buyer.name,
                                  Challenge.approval_requested_at).where(
        Challenge.buyer.is_in(bodies)).order_by(Challenge.updated_at, ascending=False).limit(200)
    await approval.add_approval_states(rows)
    return page(request, "challenges/mine.html", rows=rows, awaiting=await approval.awaiting_approval(principal),
                can_create=principal.has_role("civil_servant"))
