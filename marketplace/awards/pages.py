"""Pages: the officer's award form (ranking beside it), the standstill view with objections, the
contract page with its PDF and the signature button, and the letters. Work without JavaScript."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from marketplace.accounts.controllers import client_ip
from marketplace.accounts.services import parse_id
from marketplace.awards import contracts, schemas, services
from marketplace.awards.tables import Award, Contract, Objection, Signature
from marketplace.core.auth import BUYER_ROLES, SIGNED_IN, allow, current
from marketplace.core.clock import as_utc, now
from marketplace.core.errors import DomainError, Forbidden, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.documents.controllers import pdf_response
from marketplace.proposals.tables import Decision, Proposal
from marketplace.web.pages import convert, errors_by_field, form_text, page, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MILESTONE_ROWS = 4
MAX_MILESTONES = 20  # as schemas.AwardIn allows


def _cents(text: str) -> int | str:
    """Euros typed in a form ("12000", "12 000,50") to cents; the text itself when unreadable."""
    cleaned = text.replace("\u202f", "").replace(" ", "").replace("€", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    cleaned = cleaned.replace(",", "")
    try:
        return int(round(float(cleaned) * 100))
    except ValueError:
        return text


def _form_field(name: str) -> str:
    """API field names (`milestones[1].due_date`) to the form's input names (`m2_due_date`)."""
    if name.startswith("milestones["):
        index, _, rest = name[len("milestones["):].partition("].")
        rest = rest.replace("amount.amount", "amount").replace("amount.currency", "amount")
        return f"m{int(index) + 1}_{rest}"
    return {"amount.amount": "price", "amount.currency": "price", "proposal_id": "proposal_id",
            "milestones": "m1_amount", "language": "language"}.get(name, "_form")


async def _award_context(principal, challenge) -> dict[str, Any]:
    selected = await Proposal.select(Proposal.id, Proposal.company.name, Proposal.status).where(
        (Proposal.challenge == challenge.id) & Proposal.status.is_in(["selected", "awarded"])).order_by(Proposal.created_at)
    feedback = {}
    for row in await Decision.select(Decision.proposal, Decision.feedback).where(
            Decision.proposal.is_in([p["id"] for p in selected] or [uuid.uuid4()])).order_by(Decision.decided_at):
        feedback[str(row["proposal"])] = row["feedback"]
    awards = await services.list_awards(challenge.id)
    total = sum(a.amount.amount for a in awards if a.status != Award.Status.cancelled)
    return {"challenge": challenge, "selected": selected, "feedback": feedback, "awards": awards,
            "left_cents": max(challenge.budget_cap_cents - total, 0), "ranking": await _ranking(principal, challenge),
            "rows": range(1, MILESTONE_ROWS + 1), "stage": await services.last_stage(challenge)}


async def _ranking(principal, challenge) -> list[dict] | None:
    """The evaluation's ranking of the last stage (weighted totals), shown beside the award form."""
    from marketplace.evaluation.services import ranking

    stage = await services.last_stage(challenge)
    try:
        result = await ranking(principal, challenge.id, stage["key"] if stage else None)
    except DomainError:  # e.g. no stage to rank yet: the form works without the ranking
        return None
    return [{"rank": r.rank, "name": r.company, "total": f"{r.weighted_total:.1f}", "decision": r.decision}
            for r in result.items]


async def _officer_challenge(request, challenge_id: str):
    challenge = await services.get_challenge(challenge_id)
    if not current(request).has_role("procurement_officer", organisation_id=str(challenge.buyer)):
        raise Forbidden("Only a procurement officer of this challenge's buyer can award it.")
    return challenge


def _euros(cents: int | None) -> str:
    """Cents to the euros the form shows ("12000", "12000.50")."""
    if cents is None:
        return ""
    return str(cents // 100) if cents % 100 == 0 else f"{cents / 100:.2f}"


async def _prefill(challenge, proposal_id: str) -> dict[str, str]:
    """The form's values from the proposal's own price and milestones (the officer can change them)."""
    terms = await services.proposed_terms(challenge, proposal_id)
    form = {"proposal_id": proposal_id, "price": _euros(terms["price_cents"])}
    for i, m in enumerate(terms["milestones"], start=1):
        form.update({f"m{i}_title": m["title"], f"m{i}_amount": _euros(m["amount_cents"]),
                     f"m{i}_due_date": m["due_date"].isoformat(), f"m{i}_deliverable": m["deliverable"]})
    return form


def _rows(form: dict[str, str]) -> range:
    """Enough milestone rows for the values shown, at least MILESTONE_ROWS."""
    used = [i for i in range(1, MAX_MILESTONES + 1) if any(form.get(f"m{i}_{k}") for k in ("title", "amount", "deliverable"))]
    return range(1, max([MILESTONE_ROWS, *used]) + 1)


@get("/challenges/{challenge_id:str}/award", opt=allow("procurement_officer"), include_in_schema=False)
async def award_form(request: Request[Any, Any, Any], challenge_id: str, proposal_id: str | None = None) -> Template:
    """The form, prefilled with the chosen proposal's price and milestones (or the only selected one's)."""
    challenge = await _officer_challenge(request, challenge_id)
    context = await _award_context(current(request), challenge)
    waiting = [str(p["id"]) for p in context["selected"] if p["status"] == "selected"]
    chosen = proposal_id if proposal_id in waiting else (waiting[0] if len(waiting) == 1 else None)
    form = await _prefill(challenge, chosen) if chosen else {}
    context["rows"] = _rows(form)
    return page(request, "awards/award_form.html", form=form, **context)


@post("/challenges/{challenge_id:str}/award", opt=allow("procurement_officer"), include_in_schema=False)
async def award_submit(request: Request[Any, Any, Any], challenge_id: str, data: Form) -> Any:
    challenge = await _officer_challenge(request, challenge_id)
    form = {k: form_text(data, k, 2000) for k in data}
    milestones = []
    for i in range(1, MAX_MILESTONES + 1):
        if not any(form.get(f"m{i}_{k}", "").strip() for k in ("title", "amount", "due_date", "deliverable")):
            continue
        milestones.append({"title": form.get(f"m{i}_title", ""), "deliverable": form.get(f"m{i}_deliverable", ""),
                           "amount": {"amount": _cents(form.get(f"m{i}_amount", "")), "currency": challenge.currency},
                           "due_date": form.get(f"m{i}_due_date", "")})
    try:
        payload = convert({"proposal_id": form.get("proposal_id", ""), "language": form.get("language") or "en",
                           "amount": {"amount": _cents(form.get("price", "")), "currency": challenge.currency},
                           "milestones": milestones}, schemas.AwardIn)
        award = await services.award_proposal(current(request), challenge.id, payload)
    except DomainError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors or []:
            errors.setdefault(_form_field(e.field), _(e.message))
        if not errors:
            errors["_form"] = _(exc.detail)
        context = await _award_context(current(request), challenge)
        context["rows"] = _rows(form)
        return page(request, "awards/award_form.html", status_code=exc.status if exc.status >= 400 else 422,
                    form=form, errors=errors, **context)
    if award.standstill_reason:
        return see_other(f"/awards/{award.id}", _("Awarded. There is no standstill period: the contract is issued and can be signed now."))
    return see_other(f"/awards/{award.id}", _("Awarded. The standstill period runs until the date below."))


@get("/awards/{award_id:str}", opt=allow(SIGNED_IN), include_in_schema=False)
async def award_page(request: Request[Any, Any, Any], award_id: str) -> Template:
    """The standstill view: the award, its objections and, for whom it concerns, the forms."""
    principal = current(request)
    award_row = await services.get_award(award_id)
    award = await services.award_out(award_row)
    challenge = await services.get_challenge(award_row.challenge)
    buyer_team = services.can_answer(principal, award_row) or principal.has_role(*BUYER_ROLES, organisation_id=str(award_row.buyer))
    objector = await services.objecting_company(principal, award_row)
    query = Objection.objects().where(Objection.award == award_row.id)
    if not buyer_team:
        query = query.where(Objection.company == (uuid.UUID(objector) if objector else uuid.uuid4()))
    in_standstill = award_row.status == Award.Status.standstill and as_utc(award_row.standstill_ends_at) > now()
    return page(request, "awards/award.html", award=award, award_row=award_row, challenge=challenge,
                milestones=await services.milestones_of(award_row.id),
                objections=await query.order_by(Objection.raised_at), can_answer=services.can_answer(principal, award_row),
                can_object=objector is not None and in_standstill, in_standstill=in_standstill,
                can_award_again=award_row.status == Award.Status.cancelled
                and principal.has_role(services.AWARDING_ROLE, organisation_id=str(award_row.buyer)),
                is_party=buyer_team or principal.has_role("company_member", organisation_id=str(award_row.company)))


@post("/awards/{award_id:str}/objections", opt=allow("company_member"), include_in_schema=False)
async def object_submit(request: Request[Any, Any, Any], award_id: str, data: Form) -> Any:
    try:
        payload = convert({"text": form_text(data, "text", 10_000).strip()}, schemas.ObjectionIn)
        await services.raise_objection(current(request), award_id, payload)
    except DomainError as exc:
        return see_other(f"/awards/{award_id}", _("Your objection was not recorded: %(reason)s")
                         % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    return see_other(f"/awards/{award_id}", _("Your objection is recorded. The buyer will answer it in writing."))


@post("/objections/{objection_id:str}/answer", opt=allow("procurement_officer", "civil_servant"), include_in_schema=False)
async def answer_submit(request: Request[Any, Any, Any], objection_id: str, data: Form) -> Any:
    objection = await Objection.select(Objection.award).where(Objection.id == parse_id(objection_id, "objection")).first()
    target = f"/awards/{objection['award']}" if objection else "/contracts"
    try:
        upheld = form_text(data, "upheld", 10) == "yes"
        payload = convert({"text": form_text(data, "text", 10_000).strip(), "upheld": upheld}, schemas.AnswerIn)
        await services.answer_objection(current(request), objection_id, payload)
    except DomainError as exc:
        return see_other(target, _("The answer was not recorded: %(reason)s") % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    if upheld:
        return see_other(target, _("The objection is upheld: the award is cancelled and everyone concerned is told."))
    return see_other(target, _("Your answer is sent to the company."))


@get("/contracts", opt=allow(SIGNED_IN), include_in_schema=False)
async def contract_list(request: Request[Any, Any, Any]) -> Template:
    """The contracts of every organisation the user belongs to."""
    principal = current(request)
    orgs = [uuid.UUID(o) for o in principal.organisations()] or [uuid.uuid4()]
    rows = await Contract.select(Contract.id, Contract.number, Contract.status, Contract.challenge.title,
                                 Contract.buyer.name, Contract.company.name, Contract.award.id,
                                 Contract.award.proposal).where(
        Contract.buyer.is_in(orgs) | Contract.company.is_in(orgs)).order_by(Contract.created_at, ascending=False)
    return page(request, "awards/contracts.html", contracts=rows, to_award=await services.ready_to_award(principal.organisations("procurement_officer")))


@get("/contracts/{contract_id:str}", opt=allow(SIGNED_IN), include_in_schema=False)
async def contract_page(request: Request[Any, Any, Any], contract_id: str) -> Template:
    return await _contract_page(request, contract_id)


async def _contract_page(request: Request[Any, Any, Any], contract_id: str, errors: dict[str, str] | None = None) -> Template:
    principal = current(request)
    row = await contracts.visible_contract(principal, contract_id)
    contract = await contracts.contract_out(row)
    signed = {s.party for s in contract.signatures}
    can_sign = [p for p in contracts.signing_parties(principal, row) if p not in signed] if row.status == "issued" else []
    challenge = await services.get_challenge(row.challenge)
    signed_at = {s["party"]: s["signed_at"] for s in await Signature.select(Signature.party, Signature.signed_at).where(
        Signature.contract == row.id)}
    award = await services.get_award(row.award)
    return page(request, "awards/contract.html", status_code=422 if errors else 200, contract=contract,
                challenge=challenge, can_sign=can_sign, signed_at=signed_at, errors=errors or {},
                milestones=await services.milestones_of(award.id), starts_on=award.starts_on,
                ends_on=award.starts_on + timedelta(days=challenge.max_duration_days))


@get("/contracts/{contract_id:str}/document.pdf", opt=allow(SIGNED_IN), include_in_schema=False,
     media_type="application/pdf")
async def contract_pdf(request: Request[Any, Any, Any], contract_id: str) -> Response[bytes]:
    row, document = await contracts.contract_document(current(request), contract_id)
    return await pdf_response(document, f"contract-{row.number}")


@post("/contracts/{contract_id:str}/sign", opt=allow("procurement_officer", "company_member"), include_in_schema=False)
async def contract_sign(request: Request[Any, Any, Any], contract_id: str, data: Form) -> Any:
    party = form_text(data, "party", 10) or None
    sha = form_text(data, "document_sha256", 64) or None
    if form_text(data, "confirm", 10) != "yes":  # the page asks every signer to confirm having read the PDF
        return await _contract_page(request, contract_id, errors={
            f"confirm-{party or 'any'}": _("Confirm that you have read the contract (PDF) before signing.")})
    try:
        payload = convert({"party": party, "document_sha256": sha, "confirm": True}, schemas.SignatureIn)
        result = await contracts.sign_contract(current(request), contract_id, payload, client_ip(request))
    except DomainError as exc:
        return see_other(f"/contracts/{contract_id}", _("Not signed: %(reason)s") % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    notice = _("Signed. Both parties have signed: the experiment starts.") if result.status == "active" else _(
        "Signed. The contract becomes active when the other party signs.")
    return see_other(f"/contracts/{contract_id}", notice)


@get("/letters/{name:str}", opt=allow(SIGNED_IN), include_in_schema=False, media_type="application/pdf")
async def letter_pdf(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    """`/letters/<proposal id>.pdf`: a path parameter is a whole segment, so the ".pdf" is taken off here."""
    if not name.endswith(".pdf"):
        raise NotFound("letter")
    document = await services.letter_for(current(request), name.removesuffix(".pdf"))
    return await pdf_response(document, document.kind.replace("_", "-"))


ROUTES = [award_form, award_submit, award_page, object_submit, answer_submit, contract_list, contract_page,
          contract_pdf, contract_sign, letter_pdf]
