"""Telling people: award and rejection letters (PDFs with the feedback), e-mails and notifications.

Everything here runs inside the caller's transaction: the letters, e-mails and notices land
together with the change they report, or not at all.
"""

from __future__ import annotations

import logging
from typing import Any

from marketplace.accounts.tables import Membership, Organisation
from marketplace.awards.standstill import NO_STANDSTILL
from marketplace.awards.tables import Award, AwardMilestone, Contract, Objection
from marketplace.challenges.tables import Challenge
from marketplace.core.clock import now
from marketplace.core.i18n import LOCALES, translations
from marketplace.documents.services import render_and_store
from marketplace.documents.tables import Document
from marketplace.mail.services import enqueue_mail, notify
from marketplace.proposals.tables import Decision, Proposal

log = logging.getLogger("marketplace.awards")


async def members(org_id: Any, *roles: str) -> list[dict]:
    """The users of an organisation with one of `roles`: id, e-mail, name and locale."""
    rows = await Membership.select(
        Membership.user.id, Membership.user.email, Membership.user.name, Membership.user.locale,
    ).where((Membership.organisation == org_id) & Membership.role.is_in(list(roles)) & (Membership.user.active == True))  # noqa: E712
    seen: dict[str, dict] = {}
    for r in rows:
        seen.setdefault(str(r["user.id"]), {"id": r["user.id"], "email": r["user.email"], "name": r["user.name"],
                                            "locale": r["user.locale"] if r["user.locale"] in LOCALES else "en"})
    return list(seen.values())


def company_language(people: list[dict], fallback: str = "en") -> str:
    return people[0]["locale"] if people else fallback


def _t(locale: str, message: str, **variables: object) -> str:
    text = translations(locale).gettext(message)
    return text % variables if variables else text


async def _tell(people: list[dict], mail_template: str, kind: str, title: str, link: str, **context: object) -> None:
    for person in people:
        await enqueue_mail(person["email"], mail_template, locale=person["locale"], name=person["name"], link=link, **context)
        await notify(person["id"], kind, title, link=link, **{k: v for k, v in context.items() if isinstance(v, str)})


async def feedback_of(proposal_id: Any) -> list[dict]:
    """Every decision on the proposal with its written feedback, oldest first."""
    return await Decision.select(Decision.stage, Decision.outcome, Decision.feedback, Decision.decided_at).where(
        Decision.proposal == proposal_id).order_by(Decision.decided_at)


async def tell_bidders(award: Award, challenge: Challenge) -> None:
    """The winner gets an award letter; every rejected bidder not yet told gets a rejection letter
    with the feedback on its proposal and the standstill's end (when it may object until)."""
    buyer = await Organisation.objects().where(Organisation.id == challenge.buyer).first()
    company = await Organisation.objects().where(Organisation.id == award.company).first()
    milestones = await AwardMilestone.select().where(AwardMilestone.award == award.id).order_by(AwardMilestone.position)
    winners = await members(award.company, "company_member")
    language = company_language(winners, award.language)
    link = f"/awards/{award.id}"
    no_standstill = NO_STANDSTILL.get(award.standstill_reason, "")  # the msgid: each reader's language translates it
    await render_and_store(
        "award_letter", "proposal", award.proposal, language, "award_letter.html",
        reference=challenge.title[:80], challenge=challenge, buyer=buyer, company=company, award=award,
        milestones=milestones, feedback=await feedback_of(award.proposal), today=now().date(), no_standstill=no_standstill,
    )
    contract = await Contract.select(Contract.id).where(Contract.award == award.id).first()
    await _tell(winners, "award_won", "award_won", "Your proposal for “%(challenge)s” is awarded", link,
                challenge=challenge.title, buyer=buyer.name, standstill_ends_at=award.standstill_ends_at,
                letter=f"/letters/{award.proposal}.pdf", contract=f"/contracts/{contract['id']}" if contract else "",
                no_standstill=no_standstill)

    rejected = await Proposal.select(Proposal.id, Proposal.company).where(
        (Proposal.challenge == challenge.id) & (Proposal.status == Proposal.Status.rejected))
    cancelled_at = await last_cancellation(challenge.id)
    for row in rejected:
        told = (Document.kind == "rejection_letter") & (Document.subject_type == "proposal") & (Document.subject_id == str(row["id"]))
        if cancelled_at is not None:  # a letter about a cancelled award does not count: the new standstill is news
            told &= Document.created_at > cancelled_at
        if await Document.exists().where(told):
            continue  # already told (at an earlier award of the same challenge)
        people = await members(row["company"], "company_member")
        language = company_language(people)
        bidder = await Organisation.objects().where(Organisation.id == row["company"]).first()
        await render_and_store(
            "rejection_letter", "proposal", row["id"], language, "rejection_letter.html",
            reference=challenge.title[:80], challenge=challenge, buyer=buyer, company=bidder, award=award,
            winner=company, feedback=await feedback_of(row["id"]), today=now().date(), no_standstill=no_standstill,
        )
        await _tell(people, "award_rejected", "award_rejected", "The outcome of “%(challenge)s”", link,
                    challenge=challenge.title, buyer=buyer.name, standstill_ends_at=award.standstill_ends_at,
                    letter=f"/letters/{row['id']}.pdf", no_standstill=no_standstill)


async def last_cancellation(challenge_id: Any):  # type: ignore[no-untyped-def]
    """When the challenge's latest award was cancelled (its upheld objection's answer), or None."""
    row = await Objection.select(Objection.answered_at).where(
        (Objection.award.challenge == challenge_id) & (Objection.status == Objection.Status.upheld)).order_by(
        Objection.answered_at, ascending=False).first()
    return row["answered_at"] if row else None


async def tell_buyer_of_objection(award: Award, objection: Objection) -> None:
    challenge = await Challenge.objects().where(Challenge.id == award.challenge).first()
    people = await members(award.buyer, "procurement_officer", "civil_servant")
    await _tell(people, "objection_raised", "objection_raised", "An objection to the award of “%(challenge)s”",
                f"/awards/{award.id}", challenge=challenge.title, text=objection.text)


async def tell_objector_of_answer(award: Award, objection: Objection) -> None:
    challenge = await Challenge.objects().where(Challenge.id == award.challenge).first()
    people = await members(objection.company, "company_member")
    await _tell(people, "objection_answered", "objection_answered", "Your objection on “%(challenge)s” is answered",
                f"/awards/{award.id}", challenge=challenge.title, answer=objection.answer)


async def tell_award_cancelled(award: Award, objection: Objection) -> None:
    """An objection was upheld: the winner, every other bidder and the buyer team learn the award is cancelled."""
    challenge = await Challenge.objects().where(Challenge.id == award.challenge).first()
    bidders = await Proposal.select(Proposal.company).where(
        (Proposal.challenge == award.challenge) & Proposal.status.is_in(["selected", "rejected", "awarded"]))
    companies = list(dict.fromkeys([award.company, *[r["company"] for r in bidders]]))
    people = await members(award.buyer, "procurement_officer", "civil_servant")
    for company in companies:
        people += await members(company, "company_member")
    await _tell(people, "award_cancelled", "award_cancelled", "The award of “%(challenge)s” is cancelled",
                f"/awards/{award.id}", challenge=challenge.title, answer=objection.answer)


async def tell_parties_contract(contract: Any, kind: str, title: str) -> None:
    """Contract issued (both sign) or active (the experiment starts): every party is told."""
    challenge = await Challenge.objects().where(Challenge.id == contract.challenge).first()
    people = await members(contract.buyer, "procurement_officer", "civil_servant") + await members(
        contract.company, "company_member")
    await _tell(people, kind, kind, title, f"/contracts/{contract.id}", challenge=challenge.title,
                number=contract.number)
