"""Awarding selected proposals within the cap, the standstill, and written objections.

`award_proposal` records the award and its milestones, marks the proposal awarded, opens a draft
contract, and tells every bidder (award letter to the winner, rejection letters with the feedback
to the others). Rejected bidders may object in writing until the standstill ends; the buyer
answers. The contract is issued by `awards.jobs.issue_due_contracts` once the standstill has ended
with no open objection.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from marketplace.accounts.services import parse_id
from marketplace.accounts.tables import Organisation
from marketplace.awards import letters, schemas
from marketplace.awards.standstill import NO_STANDSTILL, other_bidders, planned_start, reason_for
from marketplace.awards.tables import Award, AwardMilestone, Contract, ContractNumber, Objection
from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.auth import BUYER_ROLES, Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, stamp_before, transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.core.money import format_money, money
from marketplace.procedures import engine
from marketplace.proposals.tables import Proposal
from marketplace.transparency.audit import record

AWARDING_ROLE = "procurement_officer"
ANSWERING_ROLES = ("procurement_officer", "civil_servant")


async def get_challenge(challenge_id: Any) -> Challenge:
    challenge = await Challenge.objects().where(Challenge.id == parse_id(challenge_id, "challenge")).first()
    if challenge is None:
        raise NotFound("challenge")
    return challenge


async def get_award(award_id: Any) -> Award:
    award = await Award.objects().where(Award.id == parse_id(award_id, "award")).first()
    if award is None:
        raise NotFound("award")
    return award


async def ready_to_award(buyer_ids: list[str]) -> list[dict]:
    """For the procurement officers of these public bodies: their challenges with a selected proposal waiting for an
    award (`id`, `title`); a proposal whose award was cancelled by an upheld objection is selected again."""
    if not buyer_ids:
        return []
    bodies = [parse_id(b, "organisation") for b in buyer_ids]
    rows = await Proposal.select(Proposal.challenge.id, Proposal.challenge.title).where(
        (Proposal.status == Proposal.Status.selected) & Proposal.challenge.buyer.is_in(bodies))
    return list({str(r["challenge.id"]): {"id": r["challenge.id"], "title": r["challenge.title"]} for r in rows}.values())


async def in_standstill(buyer_ids: list[str]) -> list[dict]:
    """For the buyer team's home: awards of these public bodies still in their standstill, ending soonest first, with
    the number of objections waiting for an answer: `id`, `title`, `company`, `ends_at`, `amount_cents`, `currency`,
    `objections`."""
    if not buyer_ids:
        return []
    rows = await Award.select(Award.id, Award.challenge.title.as_alias("title"), Award.company.name.as_alias("company"),
                              Award.standstill_ends_at.as_alias("ends_at"), Award.amount_cents, Award.currency).where(
        (Award.status == Award.Status.standstill) & Award.buyer.is_in([parse_id(b, "organisation") for b in buyer_ids])
    ).order_by(Award.standstill_ends_at)
    open_objections: dict = {}
    if rows:
        for o in await Objection.select(Objection.award).where(
                Objection.award.is_in([r["id"] for r in rows]) & (Objection.status == Objection.Status.open)):
            open_objections[o["award"]] = open_objections.get(o["award"], 0) + 1
    return [{**r, "objections": open_objections.get(r["id"], 0)} for r in rows]


def _template(challenge: Challenge) -> engine.ProcedureTemplate | None:
    try:
        return engine.get(challenge.procedure_template, challenge.procedure_version)
    except KeyError:
        return None


async def last_stage(challenge: Challenge) -> dict | None:
    """The stage whose selected proposals are awarded now: the latest decided `paid` stage whose next
    stage has not opened yet (its phase contracts), else the last stage (decided or not yet)."""
    rows = await ChallengeStage.select().where(ChallengeStage.challenge == challenge.id).order_by(ChallengeStage.position)
    template = _template(challenge)
    if template is None:
        return rows[-1] if rows else None
    by_key = {r["key"]: r for r in rows}
    for spec in reversed(template.stages[:-1]):
        following = template.next_stage(spec.key)
        row, next_row = by_key.get(spec.key), by_key.get(following.key) if following else None
        if spec.paid and row and row["status"] == ChallengeStage.Status.decided and next_row \
                and next_row["status"] == ChallengeStage.Status.pending:
            return row
    return by_key.get(template.stages[-1].key)


def stage_awarded(challenge: Challenge, proposal: Proposal, stages: dict[str, dict]) -> engine.StageSpec | None:
    """The stage at which this `selected` proposal is awarded: its current stage once decided (the last
    stage), or the `paid` stage just before it, whose contract comes before the next stage opens."""
    template = _template(challenge)
    if template is None or proposal.current_stage not in template.stage_keys:
        return None
    current = template.stage(proposal.current_stage)
    row = stages.get(current.key)
    if row and row["status"] == ChallengeStage.Status.decided and current.decision == "award":
        return current
    keys = template.stage_keys
    position = keys.index(current.key)
    before = template.stages[position - 1] if position > 0 else None
    if before and before.paid and stages.get(before.key, {}).get("status") == ChallengeStage.Status.decided:
        return before
    return None


def max_awards(challenge: Challenge, stage: engine.StageSpec | None = None) -> int | None:
    """How many proposals the template lets the buyer award at `stage` (default: the last; None: no limit)."""
    template = _template(challenge)
    if template is None:
        return None
    return engine.advance_cap(stage or template.stages[-1])


def award_key(template: engine.ProcedureTemplate | None, stage_key: str) -> list[str]:
    """The `Award.stage` values of a stage: its key, and "" (awards made before stages were recorded) for the last."""
    return [stage_key, ""] if template is not None and stage_key == template.stages[-1].key else [stage_key]


async def awarded_total(challenge_id: Any) -> int:
    rows = await Award.select(Award.amount_cents).where(
        (Award.challenge == challenge_id) & (Award.status != Award.Status.cancelled))
    return sum(r["amount_cents"] for r in rows)


def _check_amounts(challenge: Challenge, data: schemas.AwardIn, already: int, starts_on) -> list[FieldError]:
    """Every field that is wrong, named (422): cap, currency, milestone sum and due dates."""
    errors: list[FieldError] = []
    currency = challenge.currency
    if data.amount.currency != currency:
        errors.append(FieldError("amount.currency", f"must be {currency}, the challenge's currency"))
    if data.amount.amount <= 0:
        errors.append(FieldError("amount.amount", "must be more than zero"))
    elif already + data.amount.amount > challenge.budget_cap_cents:
        cap = format_money(challenge.budget_cap_cents, currency)
        detail = f" ({format_money(already, currency)} already awarded)" if already else ""
        errors.append(FieldError("amount.amount", f"exceeds the challenge's budget cap of {cap}{detail}"))
    ends_on = starts_on + timedelta(days=challenge.max_duration_days)
    for i, m in enumerate(data.milestones):
        if m.amount.currency != currency:
            errors.append(FieldError(f"milestones[{i}].amount.currency", f"must be {currency}, the challenge's currency"))
        if m.amount.amount <= 0:
            errors.append(FieldError(f"milestones[{i}].amount.amount", "must be more than zero"))
        if m.due_date < starts_on:
            errors.append(FieldError(f"milestones[{i}].due_date", f"is before the experiment starts ({starts_on.isoformat()})"))
        elif m.due_date > ends_on:
            errors.append(FieldError(
                f"milestones[{i}].due_date",
                f"is after the longest experiment allowed ends ({ends_on.isoformat()}, {challenge.max_duration_days} days)"))
    total = sum(m.amount.amount for m in data.milestones)
    if total != data.amount.amount:
        errors.append(FieldError("milestones", f"add up to {format_money(total, currency)}, not the price of "
                                               f"{format_money(data.amount.amount, currency)}"))
    return errors


async def proposed_terms(challenge: Challenge, proposal_id: Any) -> dict[str, Any]:
    """The price and milestones the company proposed in its submitted answers (the latest stage that
    asks for them wins), to prefill the award form: {"price_cents": int | None, "milestones": [...]},
    each milestone with title, amount_cents, deliverable and a due date (its `due_in_days` after the
    planned start, else spread evenly over the longest experiment allowed)."""
    from marketplace.proposals.tables import ProposalStage

    rows = await ProposalStage.select(ProposalStage.stage, ProposalStage.answers).where(
        (ProposalStage.proposal == parse_id(proposal_id, "proposal")) & (ProposalStage.status == "submitted"))
    try:
        order = [s.key for s in engine.get(challenge.procedure_template, challenge.procedure_version).stages]
    except KeyError:
        order = []
    rows.sort(key=lambda r: order.index(r["stage"]) if r["stage"] in order else len(order))
    price, milestones = None, []
    for row in rows:
        try:
            answers = json.loads(row["answers"] or "{}")
        except ValueError:
            continue
        value = answers.get("price")
        if isinstance(value, dict) and isinstance(value.get("amount"), int) and value["amount"] > 0:
            price = value["amount"]
        if isinstance(answers.get("milestones"), list) and answers["milestones"]:
            milestones = [m for m in answers["milestones"] if isinstance(m, dict)]
    starts_on = planned_start()[1]
    out = []
    for i, m in enumerate(milestones[:20]):
        amount = m.get("amount")
        days = m.get("due_in_days")
        if not (isinstance(days, int) and 0 < days <= challenge.max_duration_days):
            days = max(1, challenge.max_duration_days * (i + 1) // len(milestones))
        out.append({"title": str(m.get("title") or "")[:200], "deliverable": str(m.get("deliverable") or "")[:2000],
                    "amount_cents": amount["amount"] if isinstance(amount, dict) and isinstance(amount.get("amount"), int)
                    else None, "due_date": starts_on + timedelta(days=days)})
    return {"price_cents": price, "milestones": out}


async def award_proposal(principal: Principal, challenge_id: Any, data: schemas.AwardIn) -> schemas.AwardOut:
    """Award a `selected` proposal: all checks first, then everything in one transaction."""
    challenge = await get_challenge(challenge_id)
    if not principal.has_role(AWARDING_ROLE, organisation_id=str(challenge.buyer)):
        raise Forbidden("Only a procurement officer of this challenge's buyer can award it.")
    proposal = await Proposal.objects().where(
        (Proposal.id == parse_id(data.proposal_id, "proposal")) & (Proposal.challenge == challenge.id)
    ).first()
    if proposal is None:
        raise Invalid(FieldError("proposal_id", "is not a proposal on this challenge"))
    if challenge.status not in (Challenge.Status.published, Challenge.Status.awarded):
        raise Conflict(f"This challenge is {challenge.status}: only a published challenge can be awarded.")
    stages = {s["key"]: s for s in await ChallengeStage.select().where(ChallengeStage.challenge == challenge.id)}
    spec = stage_awarded(challenge, proposal, stages)
    if spec is None:
        raise Conflict("The last stage has not been decided yet: award once every proposal has its decision.")
    template = _template(challenge)
    is_last = spec.key == template.stages[-1].key
    # A cancelled award (an upheld objection) stays in the history and does not count: the proposal,
    # `selected` again, may be awarded anew. The database refuses two live awards (a partial unique index).
    if await Award.exists().where((Award.proposal == proposal.id) & (Award.status != Award.Status.cancelled)
                                  & Award.stage.is_in(award_key(template, spec.key))):
        raise Conflict("This proposal is already awarded.", [FieldError("proposal_id", "is already awarded")])
    if proposal.status != Proposal.Status.selected:
        raise Conflict(f"Only a proposal selected at the last stage can be awarded; this one is {proposal.status}.",
                       [FieldError("proposal_id", f"is {proposal.status}, not selected")])
    at_stage = (Award.challenge == challenge.id) & (Award.status != Award.Status.cancelled) & Award.stage.is_in(award_key(template, spec.key))
    limit = max_awards(challenge, spec)
    if limit is not None and await Award.count().where(at_stage) >= limit:
        raise Conflict(f"The procedure allows at most {limit} award(s) at the stage '{spec.key}'.")
    moment = now()
    reason = reason_for(await other_bidders(challenge.id, spec.key, proposal.id))  # a single bidder: no standstill
    standstill_ends_at, starts_on = planned_start(moment, reason)
    errors = _check_amounts(challenge, data, await awarded_total(challenge.id), starts_on)
    if spec.paid and spec.cap_percent and not errors:
        stage_cap = challenge.budget_cap_cents * spec.cap_percent // 100
        stage_total = sum(r["amount_cents"] for r in await Award.select(Award.amount_cents).where(at_stage))
        if stage_total + data.amount.amount > stage_cap:
            errors.append(FieldError("amount.amount", f"exceeds the stage '{spec.key}' share of the budget cap: {spec.cap_percent}% = "
                                                      f"{format_money(stage_cap, challenge.currency)} for all its contracts"
                                                      f" ({format_money(stage_total, challenge.currency)} already awarded)"))
    if errors:
        raise Invalid(errors)

    try:
        async with transaction():
            from marketplace.proposals.services import mark_awarded

            await mark_awarded(proposal.id)  # 409 if it changed meanwhile
            if is_last:  # a paid stage's phase contract leaves the challenge running
                from marketplace.challenges.services import mark_awarded as mark_challenge_awarded

                await mark_challenge_awarded(challenge.id)  # published -> awarded (a second award leaves it so)
            award = Award(
                challenge=challenge.id, proposal=proposal.id, company=proposal.company, buyer=challenge.buyer, stage=spec.key,
                amount_cents=data.amount.amount, currency=data.amount.currency, language=data.language,
                awarded_by=uuid.UUID(principal.user_id), awarded_at=moment, standstill_ends_at=standstill_ends_at,
                standstill_reason=reason, starts_on=starts_on,
            )
            await award.save()
            await AwardMilestone.insert(*[
                AwardMilestone(award=award.id, position=i + 1, title=m.title, amount_cents=m.amount.amount,
                               due_date=m.due_date, deliverable=m.deliverable)
                for i, m in enumerate(data.milestones)
            ])
            await Contract.insert(Contract(
                award=award.id, challenge=challenge.id, buyer=challenge.buyer, company=proposal.company,
                number=await next_contract_number(moment.year), language=data.language,
            ))
            await record(principal, "award.made", "award", award.id, {"challenge": str(challenge.id), "proposal": str(proposal.id),
                         "amount_cents": data.amount.amount, "currency": data.amount.currency,
                         "standstill_ends_at": None if reason else rfc3339(standstill_ends_at), "standstill_reason": reason or None},
                         after={"status": "standstill"})
            await letters.tell_bidders(award, challenge)
    except Exception as exc:
        if is_integrity_error(exc):  # a concurrent award took the proposal
            raise Conflict("Another award was recorded at the same moment: reload and try again.") from None
        raise
    if reason:  # no standstill: the contract is issued now, ready to sign (else the job issues it on the next pass)
        from marketplace.awards.contracts import issue_contract  # late: contracts builds on these services

        await issue_contract(award.id)
        award = await get_award(award.id)
    return await award_out(award)


async def next_contract_number(year: int) -> str:
    """`C-<year>-<nnnn>` from the year's counter. Call it inside the award's transaction: the counter's
    row stays locked until the commit, so simultaneous awards get consecutive numbers, never the same."""
    def step():  # type: ignore[no-untyped-def]
        return ContractNumber.update({ContractNumber.last: ContractNumber.last + 1}).where(
            ContractNumber.year == year).returning(ContractNumber.last)

    taken = await step()
    if not taken:  # the year's first contract: start after any number given before the counter existed
        numbers = await Contract.select(Contract.number).where(Contract.number.like(f"C-{year}-%"))
        highest = max((int(n["number"].rsplit("-", 1)[1]) for n in numbers if n["number"].rsplit("-", 1)[1].isdigit()),
                      default=0)
        await ContractNumber.insert(ContractNumber(year=year, last=highest)).on_conflict(action="DO NOTHING")
        taken = await step()
    return f"C-{year}-{taken[0]['last']:04d}"


async def list_awards(challenge_id: Any) -> list[schemas.AwardOut]:
    challenge = await get_challenge(challenge_id)
    awards = await Award.objects().where(Award.challenge == challenge.id).order_by(Award.awarded_at)
    return [await award_out(a) for a in awards]


async def party_out(org_id: Any) -> schemas.PartyOut:
    org = await Organisation.select().where(Organisation.id == org_id).first()
    return schemas.PartyOut(id=str(org["id"]), name=org["name"], enterprise_number=org["enterprise_number"],
                            country=org["country"])


async def milestones_of(award_id: Any) -> list[dict]:
    return await AwardMilestone.select().where(AwardMilestone.award == award_id).order_by(AwardMilestone.position)


def milestone_out(row: dict, currency: str) -> schemas.MilestoneOut:
    return schemas.MilestoneOut(position=row["position"], title=row["title"], amount=money(row["amount_cents"], currency),
                                due_date=row["due_date"].isoformat(), deliverable=row["deliverable"])


async def award_out(award: Award) -> schemas.AwardOut:
    contract = await Contract.select(Contract.id).where(Contract.award == award.id).first()
    return schemas.AwardOut(
        id=str(award.id), challenge_id=str(award.challenge), proposal_id=str(award.proposal),
        buyer=await party_out(award.buyer), company=await party_out(award.company),
        amount=money(award.amount_cents, award.currency),
        milestones=[milestone_out(m, award.currency) for m in await milestones_of(award.id)],
        status=award.status, awarded_at=rfc3339(award.awarded_at) or "",
        standstill_ends_at=None if award.standstill_reason else rfc3339(award.standstill_ends_at),
        standstill_reason=_(NO_STANDSTILL[award.standstill_reason]) if award.standstill_reason in NO_STANDSTILL else None,
        starts_on=award.starts_on.isoformat(),
        contract_id=str(contract["id"]) if contract else None,
        open_objections=await Objection.count().where((Objection.award == award.id) & (Objection.status == "open")),
    )


# --- objections -------------------------------------------------------------------------------

def objection_out(row: Objection) -> schemas.ObjectionOut:
    return schemas.ObjectionOut(
        id=str(row.id), award_id=str(row.award), company_id=str(row.company), text=row.text, status=row.status,
        raised_at=rfc3339(row.raised_at) or "", answer=row.answer, answered_at=rfc3339(row.answered_at),
    )


async def objecting_company(principal: Principal, award: Award) -> str | None:
    """The principal's company that bid on the challenge and did not win this award, if any."""
    mine = [uuid.UUID(o) for o in principal.organisations("company_member")]
    if not mine:
        return None
    row = await Proposal.select(Proposal.company).where(
        (Proposal.challenge == award.challenge) & Proposal.company.is_in(mine) & (Proposal.company != award.company)
        & (Proposal.status != Proposal.Status.draft)
    ).first()
    return str(row["company"]) if row else None


async def raise_objection(principal: Principal, award_id: Any, data: schemas.ObjectionIn) -> schemas.ObjectionOut:
    """A bidder that did not win objects in writing, during the standstill only."""
    award = await get_award(award_id)
    company = await objecting_company(principal, award)
    if company is None:
        raise Forbidden("Only a company that bid on this challenge and did not win this award can object.")
    if award.status != Award.Status.standstill or as_utc(award.standstill_ends_at) <= now():
        raise Conflict("The standstill period has ended: objections are no longer accepted.")
    async with transaction():
        objection = Objection(award=award.id, company=uuid.UUID(company), raised_by=uuid.UUID(principal.user_id),
                              text=data.text.strip())
        await objection.save()
        await record(principal, "objection.raised", "award", award.id, {"objection": str(objection.id), "company": company},
                     after={"status": "open"})
        await letters.tell_buyer_of_objection(award, objection)
        raised = await stamp_before(Objection, objection.id, Objection.raised_at, award.standstill_ends_at)  # last: the database's clock
        if raised is None:
            raise Conflict("The standstill period has ended: objections are no longer accepted.")
        objection.raised_at = raised
    return objection_out(objection)


def can_answer(principal: Principal, award: Award) -> bool:
    return principal.has_role(*ANSWERING_ROLES, organisation_id=str(award.buyer))


async def list_objections(principal: Principal, award_id: Any) -> list[schemas.ObjectionOut]:
    """The buyer team sees every objection; a bidder sees its own."""
    award = await get_award(award_id)
    query = Objection.objects().where(Objection.award == award.id)
    if not (can_answer(principal, award) or principal.is_platform_admin):
        company = await objecting_company(principal, award)
        if company is None:
            raise NotFound("award")
        query = query.where(Objection.company == uuid.UUID(company))
    return [objection_out(o) for o in await query.order_by(Objection.raised_at)]


async def answer_objection(principal: Principal, objection_id: Any, data: schemas.AnswerIn) -> schemas.ObjectionOut:
    """The buyer answers an objection in writing; the objecting company is told. An objection answered
    as `upheld` cancels the award (see `cancel_award`): only while the award is in its standstill."""
    objection = await Objection.objects().where(Objection.id == parse_id(objection_id, "objection")).first()
    if objection is None:
        raise NotFound("objection")
    award = await get_award(objection.award)
    if not can_answer(principal, award):
        raise Forbidden("Only a civil servant or procurement officer of the buyer can answer an objection.")
    if data.upheld and award.status != Award.Status.standstill:
        raise Conflict(f"The award is {award.status}: an objection can be upheld only before the contract is issued.",
                       [FieldError("upheld", "is too late: the award is no longer in its standstill")])
    async with transaction():
        status = Objection.Status.upheld if data.upheld else Objection.Status.answered
        done = await Objection.update({
            Objection.status: status, Objection.answer: data.text.strip(),
            Objection.answered_by: uuid.UUID(principal.user_id), Objection.answered_at: now(),
        }).where((Objection.id == objection.id) & (Objection.status == Objection.Status.open)).returning(Objection.id)
        if not done:
            raise Conflict("This objection has already been answered.")
        await record(principal, "objection.answered", "award", award.id, {"objection": str(objection.id)},
                     before={"status": "open"}, after={"status": status})
        objection = await Objection.objects().where(Objection.id == objection.id).first()
        await letters.tell_objector_of_answer(award, objection)
        if data.upheld:
            await cancel_award(award, objection)
    return objection_out(objection)


async def cancel_award(award: Award, objection: Objection) -> None:
    """An upheld objection: the award is cancelled (its draft contract too), the proposal is `selected`
    again, the challenge is `published` again when no award remains, and everyone concerned is told.
    Runs inside the caller's transaction. The proposals and challenges domains have no reversal
    service, so the two conditional updates are made here, on their tables."""
    done = await Award.update({Award.status: Award.Status.cancelled}).where(
        (Award.id == award.id) & (Award.status == Award.Status.standstill)).returning(Award.id)
    if not done:
        raise Conflict("The contract was issued meanwhile: the objection can no longer be upheld.")
    await Contract.update({Contract.status: Contract.Status.cancelled}).where(
        (Contract.award == award.id) & (Contract.status == Contract.Status.draft))
    await Proposal.update({Proposal.status: Proposal.Status.selected, Proposal.updated_at: now()}).where(
        (Proposal.id == award.proposal) & (Proposal.status == Proposal.Status.awarded))
    if not await Award.exists().where((Award.challenge == award.challenge) & (Award.status != Award.Status.cancelled)):
        await Challenge.update({Challenge.status: Challenge.Status.published, Challenge.closed_at: None,
                                Challenge.updated_at: now()}).where(
            (Challenge.id == award.challenge) & (Challenge.status == Challenge.Status.awarded))
    award.status = Award.Status.cancelled
    await record(None, "award.cancelled", "award", award.id, {"objection": str(objection.id)}, before={"status": "standstill"},
                 after={"status": "cancelled"})
    await letters.tell_award_cancelled(award, objection)


def party_to(principal: Principal, buyer_id: Any, company_id: Any) -> bool:
    """A party to an award's papers (letters, contract): the buyer's staff, the company's members, platform admins."""
    return (principal.is_platform_admin or principal.has_role(*BUYER_ROLES, organisation_id=str(buyer_id))
            or principal.has_role("company_member", organisation_id=str(company_id)))


async def links_for_proposal(proposal_id: Any, principal: Principal) -> dict[str, str]:
    """For the proposals pages: where a proposal's award, award or rejection letter and contract are
    ({"award": "/awards/..", "letter": "/letters/...pdf", "contract": "/contracts/.."}), only those that
    exist and that `principal` may open (an incubator follows the proposal, but is no party to its contract)."""
    from marketplace.documents.tables import Document

    pid = parse_id(proposal_id, "proposal")
    links: dict[str, str] = {}
    proposal = await Proposal.select(Proposal.company, Proposal.challenge.buyer).where(Proposal.id == pid).first()
    if proposal is None:
        return links
    award = await Award.select(Award.id).where(Award.proposal == pid).order_by(Award.awarded_at, ascending=False).first()  # the newest
    if award:
        links["award"] = f"/awards/{award['id']}"
    if not party_to(principal, proposal["challenge.buyer"], proposal["company"]):
        return links
    if award:
        contract = await Contract.select(Contract.id).where(Contract.award == award["id"]).first()
        if contract:
            links["contract"] = f"/contracts/{contract['id']}"
    if await Document.exists().where(Document.kind.is_in(["award_letter", "rejection_letter"])
                                     & (Document.subject_type == "proposal") & (Document.subject_id == str(pid))):
        links["letter"] = f"/letters/{pid}.pdf"
    return links


async def letter_for(principal: Principal, proposal_id: Any):
    """The award or rejection letter of a proposal: for its company and the buyer team only."""
    from marketplace.documents.tables import Document

    proposal = await Proposal.objects().where(Proposal.id == parse_id(proposal_id, "proposal")).first()
    if proposal is None:
        raise NotFound("letter")
    challenge = await Challenge.select(Challenge.buyer).where(Challenge.id == proposal.challenge).first()
    if not party_to(principal, challenge["buyer"], proposal.company):  # the same parties as the contract's
        raise NotFound("letter")
    document = await Document.objects().where(
        Document.kind.is_in(["award_letter", "rejection_letter"]) & (Document.subject_type == "proposal")
        & (Document.subject_id == str(proposal.id))
    ).order_by(Document.created_at, ascending=False).first()
    if document is None:
        raise NotFound("letter")
    return document
