"""Telling companies: an e-mail (through the outbox, in the caller's transaction) and an in-app
notification to every member of the proposing company. Only the proposal's own company is told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplace.accounts.tables import Membership, Organisation
from marketplace.core.i18n import N_
from marketplace.mail.services import enqueue_mail, notify
from marketplace.procedures import engine
from marketplace.proposals.tables import Proposal


async def company_members(company_id: Any) -> list[dict[str, Any]]:
    return await Membership.select(Membership.user.id.as_alias("user_id"), Membership.user.email.as_alias("email"),
                                   Membership.user.locale.as_alias("locale")).where(
        (Membership.organisation == company_id) & (Membership.role == Membership.Role.company_member))


async def tell_decision(proposal: dict[str, Any], challenge: dict[str, Any], stage_name: str, outcome: str, feedback: str,
                        next_text: str) -> None:
    company = await Organisation.select(Organisation.name).where(Organisation.id == proposal["company"]).first()
    for m in await company_members(proposal["company"]):
        await enqueue_mail(m["email"], "proposal_decision", locale=m["locale"], outcome=outcome, challenge=challenge["title"],
                           company=company["name"], stage=stage_name, feedback=feedback, next_text=next_text,
                           proposal_id=str(proposal["id"]))
        title = N_("Your proposal advances: %(challenge)s") if outcome == "advance" else N_("Decision on your proposal: %(challenge)s")
        await notify(m["user_id"], "proposal_decision", title, feedback[:500], f"/proposals/{proposal['id']}", challenge=challenge["title"])


async def tell_stage_opened(challenge: dict[str, Any], stage_key: str, closes_at: datetime) -> None:
    """The proposals that advanced to this stage are told it is open (after a `paid` stage: its contractors)."""
    from marketplace.proposals.lifecycle import paid_stage_before

    template = engine.get(challenge["procedure_template"], challenge["procedure_version"])
    spec = template.stage(stage_key)
    statuses = [Proposal.Status.awarded] if paid_stage_before(template, stage_key) else [
        Proposal.Status.advanced, Proposal.Status.selected, Proposal.Status.awarded]
    rows = await Proposal.select(Proposal.id, Proposal.company, Proposal.company.name.as_alias("company_name")).where(
        (Proposal.challenge == challenge["id"]) & (Proposal.current_stage == stage_key) & Proposal.status.is_in(statuses))
    for p in rows:
        for m in await company_members(p["company"]):
            await enqueue_mail(m["email"], "stage_opened", locale=m["locale"], stage=spec.name, challenge=challenge["title"],
                               company=p["company_name"], closes_at=closes_at, proposal_id=str(p["id"]))
            await notify(m["user_id"], "stage_opened", N_("'%(stage)s' is open: %(challenge)s"), "", f"/proposals/{p['id']}",
                         stage=spec.name, challenge=challenge["title"])
