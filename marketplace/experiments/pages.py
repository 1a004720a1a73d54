"""Experiment pages: the parties' experiment page (milestones, deliverable upload, review, payout
status and days left, outcome), the list of one's experiments, and the public result cards."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import BUYER_ROLES, PUBLIC, SIGNED_IN, allow, current
from marketplace.core.errors import DomainError, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.experiments import schemas, services, storage
from marketplace.experiments.controllers import UPLOAD_LIMIT, read_upload
from marketplace.experiments.tables import Experiment
from marketplace.payments.connect import account_for
from marketplace.web.pages import confirmed, convert, errors_by_field, form_text, page, see_other


def as_date(value: str | None) -> date | None:
    """An ISO date or RFC 3339 time from the API structs, as a date for the `date` filter."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date() if "T" in value else date.fromisoformat(value)


def back_to(experiment_id: str, notice: str, anchor: str | None = None, *, error: bool = False) -> Redirect:
    """To the experiment page with a notice, scrolled to `anchor`."""
    return see_other(f"/experiments/{experiment_id}" + (f"#{anchor}" if anchor else ""), notice, error=error)


Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/experiments", opt=allow(SIGNED_IN), include_in_schema=False)
async def my_experiments(request: Request[Any, Any, Any]) -> Template:
    principal = current(request)
    orgs = [uuid.UUID(o) for o in principal.organisations()]
    rows = await Experiment.select(Experiment.id, Experiment.title, Experiment.status, Experiment.outcome,
                                   Experiment.buyer.name, Experiment.company.name, Experiment.started_at).where(
        Experiment.buyer.is_in(orgs or [uuid.uuid4()]) | Experiment.company.is_in(orgs or [uuid.uuid4()])
    ).order_by(Experiment.started_at, ascending=False)
    return page(request, "experiments/list.html", experiments=rows)


# Sections that domains built on experiments add to the experiment page and to the public result card
# (co-creation reviews, right-to-challenge requests): `async fn(experiment row, principal or None)`
# returning `(template name, context)` or None. Experiments stays unaware of who adds what.
EXPERIMENT_SECTIONS: list[Any] = []
RESULT_SECTIONS: list[Any] = []


async def sections_for(registry: list[Any], row: dict[str, Any], principal: Any) -> list[tuple[str, dict[str, Any]]]:
    found = [await section(row, principal) for section in registry]
    return [s for s in found if s]


async def experiment_page_context(request: Request[Any, Any, Any], principal: Any, experiment_id: str) -> dict[str, Any]:
    """Everything the experiment page shows (also for re-rendering it after a failed form post)."""
    row = await services.visible_experiment(principal, experiment_id)
    experiment = await services.experiment_out(row["id"])
    account = await account_for(row["company"])
    return dict(
        experiment=experiment, is_company=services.is_company(principal, row),
        can_review=principal.has_role(*services.REVIEWER_ROLES, organisation_id=str(row["buyer"])),
        can_decide=principal.has_role("civil_servant", organisation_id=str(row["buyer"])),
        payouts_enabled=bool(account and account["payouts_enabled"]), account_started=account is not None, as_date=as_date,
        sections=await sections_for(EXPERIMENT_SECTIONS, row, principal),
    )


@get("/experiments/{experiment_id:str}", opt=allow(SIGNED_IN), include_in_schema=False)
async def experiment_page(request: Request[Any, Any, Any], experiment_id: str) -> Template:
    return page(request, "experiments/experiment.html", **await experiment_page_context(request, current(request), experiment_id))


@post("/experiments/milestones/{milestone_id:str}/deliverables", opt=allow("company_member"), include_in_schema=False,
      request_max_body_size=UPLOAD_LIMIT)
async def deliver_page(request: Request[Any, Any, Any], milestone_id: str) -> Any:
    principal = current(request)
    report, files = await read_upload(request)
    try:
        milestone = await services.submit_deliverable(principal, milestone_id, report, files)
    except DomainError as exc:
        back = await _experiment_of(milestone_id)
        return back_to(back, notice=_("The deliverable was not submitted: %(reason)s")
                         % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    back = await _experiment_of(milestone.id)
    return back_to(back, anchor=f"milestone-{milestone.id}", notice=_("Deliverable submitted. The buyer has been asked to review it."))


@post("/experiments/milestones/{milestone_id:str}/review", opt=allow("civil_servant", "procurement_officer"), include_in_schema=False)
async def review_page(request: Request[Any, Any, Any], milestone_id: str, data: Form) -> Any:
    principal = current(request)
    back = await _experiment_of(milestone_id)
    try:
        payload = convert({"decision": form_text(data, "decision", 30), "feedback": form_text(data, "feedback", 10_000)},
                          schemas.ReviewIn)
        milestone = await services.review_milestone(principal, milestone_id, payload)
    except DomainError as exc:
        return back_to(back, anchor=f"milestone-{milestone_id}", notice=_("The review was not saved: %(reason)s")
                         % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    notice = _("Milestone accepted. Its payout has started; the 30-day payment clock runs from today.") \
        if milestone.status == "accepted" else _("Changes requested. The company has your feedback.")
    return back_to(back, anchor=f"milestone-{milestone_id}", notice=notice)


@post("/experiments/{experiment_id:str}/outcome", opt=allow("civil_servant"), include_in_schema=False)
async def outcome_page(request: Request[Any, Any, Any], experiment_id: str, data: Form) -> Any:
    try:
        confirmed(data)
        payload = convert({k: form_text(data, k, 20_000) for k in ("result", "learnings", "follow_on")}, schemas.OutcomeIn)
        await services.record_outcome(current(request), experiment_id, payload)
    except DomainError as exc:
        return back_to(experiment_id, anchor="outcome", notice=_("The outcome was not recorded: %(reason)s")
                         % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    return back_to(experiment_id, notice=_("Outcome recorded. Its result card is now public."))


@get("/experiments/files/{file_id:str}", opt=allow("company_member", *BUYER_ROLES), include_in_schema=False)
async def file_page(request: Request[Any, Any, Any], file_id: str) -> Stream:
    row, content = await services.deliverable_file(current(request), file_id)
    return storage.download(row, content, row["size"])


async def _experiment_of(milestone_id: str) -> str:
    from marketplace.experiments.tables import Milestone

    try:
        row = await Milestone.select(Milestone.experiment).where(Milestone.id == uuid.UUID(milestone_id)).first()
    except ValueError:
        row = None
    if row is None:
        raise NotFound("milestone")
    return str(row["experiment"])


async def finished_experiments() -> list[dict[str, Any]]:
    """Every finished experiment's result, successful or not, newest first (shown on the public /results page)."""
    return await Experiment.select(Experiment.id, Experiment.title, Experiment.outcome, Experiment.follow_on,
                                   Experiment.buyer.name, Experiment.company.name, Experiment.finished_at).where(
        Experiment.status == Experiment.Status.finished).order_by(Experiment.finished_at, ascending=False)


@get("/results/{result_id:str}", opt=allow(PUBLIC), include_in_schema=False)
async def result_card(request: Request[Any, Any, Any], result_id: str) -> Template:
    """The public result card of a finished experiment: what was tried, the result, the learnings, what was paid."""
    try:
        row = await Experiment.select().where(
            (Experiment.id == uuid.UUID(result_id)) & (Experiment.status == Experiment.Status.finished)).first()
    except ValueError:
        row = None
    if row is None:
        raise NotFound("result")
    experiment = await services.experiment_out(row["id"])
    paid = sum(m.payout.amount.amount for m in experiment.milestones if m.payout and m.payout.status == "paid")
    accepted = sum(m.amount.amount for m in experiment.milestones if m.status == "accepted")
    buyer = await Organisation.select(Organisation.name).where(Organisation.id == row["buyer"]).first()
    return page(request, "experiments/result.html", experiment=experiment, paid_cents=paid, accepted_cents=accepted,
                buyer_name=buyer["name"] if buyer else "", sections=await sections_for(RESULT_SECTIONS, row, None))


ROUTES = [my_experiments, experiment_page, deliver_page, review_page, outcome_page, file_page, result_card]
