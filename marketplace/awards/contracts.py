"""Test contracts: issued as a PDF when the standstill ends, signed by both parties, then active.

A contract is `draft` from the award, `issued` once its document exists (the standstill ended with
no open objection), and `active` when a procurement officer of the buyer and a member of the
company have both signed that document (by SHA-256). Activation starts the experiment through
`marketplace.experiments.services.start_experiment(contract_id)`.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from marketplace.accounts.services import parse_id
from marketplace.accounts.tables import Organisation
from marketplace.awards import letters, schemas
from marketplace.awards.services import milestone_out, milestones_of, party_out
from marketplace.awards.tables import Award, Contract, Objection, Signature
from marketplace.challenges.tables import Challenge
from marketplace.core.auth import BUYER_ROLES, Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from marketplace.core.money import money
from marketplace.documents.services import get_document, latest_document, render_and_store
from marketplace.documents.tables import Document
from marketplace.proposals.tables import ProposalStage
from marketplace.transparency.audit import record

log = logging.getLogger("marketplace.awards")

SIGNING_ROLES = {"buyer": "procurement_officer", "company": "company_member"}
SCOPE_FIELDS = ("approach", "experiment_plan", "idea", "pitch_summary")


def can_see(principal: Principal, contract: Contract) -> bool:
    """Both parties (the buyer's staff, the company's members) and platform admins."""
    return (
        principal.is_platform_admin
        or principal.has_role(*BUYER_ROLES, organisation_id=str(contract.buyer))
        or principal.has_role("company_member", organisation_id=str(contract.company))
    )


async def visible_contract(principal: Principal, contract_id: Any) -> Contract:
    contract = await Contract.objects().where(Contract.id == parse_id(contract_id, "contract")).first()
    if contract is None or not can_see(principal, contract):
        raise NotFound("contract")  # another company's contract is simply not there
    return contract


async def scope_of(proposal_id: Any) -> str:
    """The contract's scope, drawn from the proposal's own words (approach, experiment plan, ...)."""
    stages = await ProposalStage.select(ProposalStage.answers).where(ProposalStage.proposal == proposal_id)
    answers: dict[str, Any] = {}
    for row in stages:
        answers.update(json.loads(row["answers"] or "{}"))
    parts = [str(answers[k]).strip() for k in SCOPE_FIELDS if isinstance(answers.get(k), str) and answers[k].strip()]
    return "\n\n".join(parts)[:8000] or "—"


async def contract_context(contract: Contract, award: Award, signatures: list[dict] | None = None) -> dict[str, Any]:
    """Everything templates/documents/contract.html shows; with `signatures`, the signed version."""
    challenge = await Challenge.objects().where(Challenge.id == award.challenge).first()
    buyer = await Organisation.objects().where(Organisation.id == contract.buyer).first()
    company = await Organisation.objects().where(Organisation.id == contract.company).first()
    return {
        "reference": contract.number,
        "contract": {"number": contract.number, "issued_on": as_utc(contract.issued_at or now()).date(),
                     "version": 2 if signatures else 1, "language": contract.language},
        "signatures": {s["party"]: s for s in signatures or []},
        "buyer": buyer, "company": company, "challenge": challenge, "scope": await scope_of(award.proposal),
        "price_cents": award.amount_cents, "currency": award.currency, "milestones": await milestones_of(award.id),
        "duration_days": challenge.max_duration_days, "starts_on": award.starts_on,
        "ends_on": award.starts_on + timedelta(days=challenge.max_duration_days),
    }


async def issue_contract(award_id: Any) -> Contract | None:
    """Issue the award's contract if its standstill is over with no open objection (idempotent:
    the award is claimed by a conditional update, so two workers never issue it twice)."""
    async with transaction():
        if await Objection.exists().where((Objection.award == award_id) & (Objection.status == Objection.Status.open)):
            return None
        claimed = await Award.update({Award.status: Award.Status.contracted}).where(
            (Award.id == award_id) & (Award.status == Award.Status.standstill) & (Award.standstill_ends_at <= now())
        ).returning(Award.id)
        if not claimed:
            return None
        award = await Award.objects().where(Award.id == award_id).first()
        contract = await Contract.objects().where(Contract.award == award_id).first()
        document = await render_and_store("contract", "contract", contract.id, contract.language, "contract.html",
                                          **await contract_context(contract, award))
        await Contract.update({
            Contract.status: Contract.Status.issued, Contract.document: document.id,
            Contract.document_sha256: document.sha256, Contract.issued_at: now(),
        }).where(Contract.id == contract.id)
        contract = await Contract.objects().where(Contract.id == contract.id).first()
        await record("system", "contract.issued", "contract", contract.id, {"award": str(award_id), "number": contract.number,
                     "document_sha256": document.sha256}, before={"status": "draft"}, after={"status": "issued"})
        await letters.tell_parties_contract(contract, "contract_issued", "Test contract %(number)s is ready to sign")
    log.info("contract %s issued (award %s, document %s)", contract.number, award_id, document.sha256)
    return contract


async def issue_due_contracts() -> int:
    """The job: every award whose standstill has ended with no open objection gets its contract."""
    due = await Award.select(Award.id).where(
        (Award.status == Award.Status.standstill) & (Award.standstill_ends_at <= now()))
    issued = 0
    for row in due:
        if await issue_contract(row["id"]) is not None:
            issued += 1
    return issued


async def store_signed_version(contract: Contract) -> Document:
    """The signed contract: a new version of the document whose signature block names who signed for each party,
    when, and the SHA-256 of the version they signed (the unsigned one stays as it was)."""
    award = await Award.objects().where(Award.id == contract.award).first()
    signatures = await Signature.select().where(Signature.contract == contract.id).order_by(Signature.signed_at)
    return await render_and_store("contract", "contract", contract.id, contract.language, "contract.html",
                                  **await contract_context(contract, award, signatures))


async def contract_out(contract: Contract) -> schemas.ContractOut:
    award = await Award.objects().where(Award.id == contract.award).first()
    document = await latest_document("contract", "contract", contract.id, contract.language) if contract.document else None
    signatures = await Signature.select().where(Signature.contract == contract.id).order_by(Signature.signed_at)
    challenge = await Challenge.select(Challenge.max_duration_days).where(Challenge.id == contract.challenge).first()
    return schemas.ContractOut(
        id=str(contract.id), number=contract.number, status=contract.status, language=contract.language,
        award_id=str(contract.award), challenge_id=str(contract.challenge),
        buyer=await party_out(contract.buyer), company=await party_out(contract.company),
        amount=money(award.amount_cents, award.currency),
        milestones=[milestone_out(m, award.currency) for m in await milestones_of(award.id)],
        starts_on=award.starts_on.isoformat(),
        ends_on=(award.starts_on + timedelta(days=challenge["max_duration_days"])).isoformat(),
        document_sha256=contract.document_sha256 or None, document_version=document.version if document else None,
        signatures=[schemas.SignatureOut(
            party=s["party"], organisation_id=str(s["organisation"]), user_id=str(s["user"]), name=s["signer_name"],
            signed_at=rfc3339(s["signed_at"]) or "", ip_address=s["ip_address"], document_sha256=s["document_sha256"],
        ) for s in signatures],
        issued_at=rfc3339(contract.issued_at), activated_at=rfc3339(contract.activated_at),
        experiment_id=str(contract.experiment_id) if contract.experiment_id else None,
    )


async def contracts_of(principal: Principal, limit: int, cursor: str | None) -> tuple[list[schemas.ContractOut], str | None]:
    """The caller's contracts (as the buyer or the company), newest first, paged in the database by an
    opaque cursor over (created_at, id)."""
    from marketplace.core.paging import decode_cursor, encode_cursor

    orgs = [parse_id(o, "organisation") for o in principal.organisations("company_member", *BUYER_ROLES)]
    if not orgs:
        return [], None
    query = Contract.objects().where(Contract.buyer.is_in(orgs) | Contract.company.is_in(orgs))
    after = decode_cursor(cursor, 2)
    if after is not None:
        moment, ident = after
        query = query.where((Contract.created_at < moment) | ((Contract.created_at == moment) & (Contract.id < ident)))
    rows = await query.order_by(Contract.created_at, ascending=False).order_by(Contract.id, ascending=False).limit(limit + 1)
    page_rows = rows[:limit]
    next_cursor = encode_cursor(page_rows[-1].created_at, page_rows[-1].id) if len(rows) > limit else None
    return [await contract_out(c) for c in page_rows], next_cursor


async def awaiting_signature(organisation_ids: list[str], party: str) -> list[dict]:
    """For the home page: issued contracts of these organisations (on `party`'s side: "buyer" or "company") that
    nobody has signed for that party yet, oldest issue first: `id`, `number`, `title`, `issued_at`."""
    if not organisation_ids:
        return []
    side = Contract.buyer if party == "buyer" else Contract.company
    rows = await Contract.select(Contract.id, Contract.number, Contract.challenge.title.as_alias("title"), Contract.issued_at).where(
        (Contract.status == Contract.Status.issued) & side.is_in([parse_id(o, "organisation") for o in organisation_ids])
    ).order_by(Contract.issued_at)
    if not rows:
        return []
    signed = {s["contract"] for s in await Signature.select(Signature.contract).where(
        Signature.contract.is_in([r["id"] for r in rows]) & (Signature.party == party))}
    return [r for r in rows if r["id"] not in signed]


async def contract_document(principal: Principal, contract_id: Any) -> tuple[Contract, Document]:
    contract = await visible_contract(principal, contract_id)
    if contract.document is None:
        raise Conflict("The contract is issued when the standstill period ends: there is no document yet.")
    latest = await latest_document("contract", "contract", contract.id, contract.language)  # the signed one, once signed
    return contract, latest or await get_document(contract.document)


def signing_parties(principal: Principal, contract: Contract) -> list[str]:
    """The parties the principal may sign for."""
    orgs = {"buyer": str(contract.buyer), "company": str(contract.company)}
    return [p for p, role in SIGNING_ROLES.items() if principal.has_role(role, organisation_id=orgs[p])]


async def sign_contract(principal: Principal, contract_id: Any, data: schemas.SignatureIn, ip_address: str) -> schemas.ContractOut:
    """Sign the issued document for the buyer or the company; when both signed, the contract is active."""
    contract = await visible_contract(principal, contract_id)
    allowed = signing_parties(principal, contract)
    if data.party is not None and data.party not in allowed:
        who = "a procurement officer of the buyer" if data.party == "buyer" else "a member of the company"
        raise Forbidden(f"Only {who} can sign for the {data.party}.")
    if not allowed:
        raise Forbidden("Only a procurement officer of the buyer or a member of the company can sign this contract.")
    if data.party is None and len(allowed) > 1:
        raise Invalid(FieldError("party", "say whether you sign for the buyer or the company"))
    missing = []
    if data.document_sha256 is None:  # a signature always names the exact document it signs
        missing.append(FieldError("document_sha256", "is required: the SHA-256 of the contract document you read and sign"))
    if data.confirm is not True:
        missing.append(FieldError("confirm", "confirm that you have read the contract (PDF) before signing"))
    if missing:
        raise Invalid(missing)
    party = data.party or allowed[0]
    if contract.status == Contract.Status.draft:
        raise Conflict("The contract is not issued yet: it can be signed once the standstill period has ended.")
    if await Signature.exists().where((Signature.contract == contract.id) & (Signature.party == party)):
        raise Conflict(f"The contract is already signed for the {party}.")
    if data.document_sha256 != contract.document_sha256:
        raise Conflict("The document you read is not the current one: reload it and sign again.",
                       [FieldError("document_sha256", "does not match the contract's current document")])
    org_id = contract.buyer if party == "buyer" else contract.company
    try:
        async with transaction():
            await Signature.insert(Signature(
                contract=contract.id, party=party, organisation=org_id, user=uuid.UUID(principal.user_id),
                signer_name=principal.name, signed_at=now(), ip_address=ip_address[:64], document=contract.document,
                document_sha256=contract.document_sha256,
            ))
            await record(principal, "contract.signed", "contract", contract.id, {"party": party, "document_sha256": contract.document_sha256},
                         ip=ip_address)
            if await Signature.count().where(Signature.contract == contract.id) == 2:
                await _activate(contract)
    except Exception as exc:
        if is_integrity_error(exc):  # a double click raced the check above
            raise Conflict(f"The contract is already signed for the {party}.") from None
        raise
    contract = await Contract.objects().where(Contract.id == contract.id).first()
    return await contract_out(contract)


async def _activate(contract: Contract) -> None:
    await Contract.update({Contract.status: Contract.Status.active, Contract.activated_at: now()}).where(
        Contract.id == contract.id)
    await record("system", "contract.activated", "contract", contract.id, before={"status": contract.status}, after={"status": "active"})
    await store_signed_version(contract)
    await letters.tell_parties_contract(contract, "contract_active", "Test contract %(number)s is signed: the experiment starts")
    from marketplace.experiments.services import start_experiment  # late: experiments builds on contracts

    await start_experiment(contract.id)
