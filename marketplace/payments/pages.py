"""Payments pages: "set up payouts" (to the onboarding link and back), and the payments dashboard of
what is due and overdue, for the buyer's staff and for the company."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import BUYER_ROLES, allow, current
from marketplace.core.clock import now
from marketplace.core.errors import DomainError
from marketplace.core.i18n import gettext as _
from marketplace.experiments.pages import as_date
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.payments import connect, payouts, statements
from marketplace.payments.tables import Payout
from marketplace.web.pages import errors_by_field, form_text, page, safe_next, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _back(path: str, notice: str, *, error: bool = False) -> Redirect:
    """A redirect with a notice (shown once on the next page)."""
    return see_other(path, notice, error=error)


async def _to_onboarding(request: Request[Any, Any, Any], org_id: str, back: str) -> Redirect:
    try:
        result = await connect.start_onboarding(current(request), org_id, return_path=f"/payouts/setup/{org_id}/done?next={quote(back, safe='/')}")
    except DomainError as exc:
        return _back(back, _("Payouts could not be set up: %(reason)s") % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    if result.onboarding_url is None:
        return _back(back, _("Payouts are set up: accepted milestones are paid into your account."))
    return Redirect(path=result.onboarding_url, status_code=303)


@post("/payouts/setup/{org_id:str}", opt=allow("company_member"), include_in_schema=False)
async def setup_payouts(request: Request[Any, Any, Any], org_id: str, data: Form) -> Redirect:
    """"Set up payouts": to a fresh onboarding link (Stripe's, or the sandbox's page)."""
    return await _to_onboarding(request, org_id, safe_next(form_text(data, "next", 300), "/payments"))


@get("/payouts/setup/{org_id:str}", opt=allow("company_member"), include_in_schema=False)
async def refresh_setup(request: Request[Any, Any, Any], org_id: str) -> Redirect:
    """Stripe sends the company here when a link expired: a new link at once."""
    return await _to_onboarding(request, org_id, "/payments")


@get("/payouts/setup/{org_id:str}/done", opt=allow("company_member"), include_in_schema=False)
async def setup_done(request: Request[Any, Any, Any], org_id: str, next: str | None = None) -> Redirect:
    return _back(safe_next(next, "/payments"),
                 _("Thank you. Payouts are enabled as soon as Stripe confirms your details, usually within a minute."))


def _owed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a buyer owes, per currency: open payouts due and overdue, and the late interest and
    compensation running on the overdue ones."""
    totals: dict[str, dict[str, Any]] = {}
    for i in items:
        p = i["payout"]
        if p.status == "paid":
            continue
        t = totals.setdefault(p.amount.currency, {"currency": p.amount.currency, "due": 0, "overdue": 0, "interest": 0,
                                                  "compensation": 0, "due_count": 0, "overdue_count": 0})
        key = "overdue" if p.days_left < 0 else "due"
        t[key] += p.amount.amount
        t[f"{key}_count"] += 1
        t["interest"] += p.late_interest.amount
        t["compensation"] += p.compensation.amount
    return list(totals.values())


@get("/payments", opt=allow("company_member", "incubator_member", *BUYER_ROLES), include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    """What the buyer owes (due and overdue, days left, late interest), what is coming to a company,
    and, for an incubator, its consenting portfolio companies' payouts (read only)."""
    from marketplace.accounts.services import consenting_companies

    principal = current(request)
    own = principal.organisations("company_member", *BUYER_ROLES)
    portfolio = await consenting_companies(principal.organisations("incubator_member")) if principal.has_role("incubator_member") else []
    orgs = [uuid.UUID(o) for o in {*own, *portfolio}] or [uuid.uuid4()]
    buyer_orgs = [uuid.UUID(o) for o in principal.organisations(*BUYER_ROLES)]
    rows = await Payout.select(*Payout.all_columns(), Payout.company.name.as_alias("company_name"),
                               Payout.buyer.name.as_alias("buyer_name")).where(
        Payout.company.is_in(orgs) | Payout.buyer.is_in(orgs)).order_by(Payout.due_by)
    titles = {}
    if rows:
        ms = await Milestone.select(Milestone.id, Milestone.title, Milestone.experiment.title.as_alias("experiment_title")).where(
            Milestone.id.is_in([r["milestone"] for r in rows]))
        titles = {m["id"]: m for m in ms}
    moment = now()
    items = [{"payout": payouts.payout_out(r, moment), "row": r, "milestone": titles.get(r["milestone"])} for r in rows]
    open_items = [i for i in items if i["payout"].status != "paid"]
    owed = _owed([i for i in items if i["row"]["buyer"] in buyer_orgs])
    companies = [o for o in principal.roles if o.role == "company_member"]
    accounts = {}
    for role in companies:
        accounts[role.organisation_id] = await connect.account_for(uuid.UUID(role.organisation_id))
    coming = await Milestone.select(
        Milestone.id, Milestone.title, Milestone.amount_cents, Milestone.currency, Milestone.due_date, Milestone.status,
        Milestone.submitted_at, Milestone.experiment.as_alias("experiment_id"),
        Milestone.experiment.title.as_alias("experiment_title"), Milestone.experiment.buyer.as_alias("buyer"),
        Milestone.experiment.company.as_alias("company"), Milestone.experiment.company.name.as_alias("company_name"), Milestone.experiment.buyer.name.as_alias("buyer_name"),
    ).where((Milestone.experiment.status == Experiment.Status.running) & (Milestone.status != "accepted")
            & (Milestone.experiment.buyer.is_in(orgs) | Milestone.experiment.company.is_in(orgs))).order_by(Milestone.due_date)
    coming.sort(key=lambda m: (m["status"] != "submitted", m["due_date"]))  # awaiting review first
    running = await Experiment.count().where(
        (Experiment.status == Experiment.Status.running) & (Experiment.buyer.is_in(orgs) | Experiment.company.is_in(orgs)))
    return page(request, "payments/dashboard.html", overdue=[i for i in open_items if i["payout"].days_left < 0],
                due=[i for i in open_items if i["payout"].days_left >= 0], paid=[i for i in items if i["payout"].status == "paid"],
                companies=companies, accounts=accounts, running=running, as_date=as_date, owed=owed, coming=coming,
                is_buyer=bool(buyer_orgs), own_orgs=set(own), is_incubator=principal.has_role("incubator_member"), portfolio=portfolio,
                org_names={str(o["id"]): o["name"] for o in await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id.is_in(orgs))})


@get("/payments/statements/{payout_id:str}", opt=allow("company_member", *BUYER_ROLES), include_in_schema=False)
async def statement_page(request: Request[Any, Any, Any], payout_id: str) -> Response[bytes]:
    """The payment statement PDF, in the reader's language."""
    from marketplace.core.i18n import current_locale
    from marketplace.documents.controllers import pdf_response

    document = await statements.payment_statement(current(request), payout_id, current_locale.get())
    return await pdf_response(document, "payment-statement")


ROUTES = [setup_payouts, refresh_setup, setup_done, dashboard, statement_page]
