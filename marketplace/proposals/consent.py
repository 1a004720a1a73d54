"""Incubators act with consent: the company is told of every proposal an incubator starts or submits in its name."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.accounts.tables import Organisation, PortfolioLink
from marketplace.core.auth import Principal
from marketplace.core.i18n import N_
from marketplace.core.i18n import gettext as _
from marketplace.mail.services import tell_members


async def acting_incubator(principal: Principal, company_id: Any) -> uuid.UUID | None:
    """The incubator this person acts for when working on the company's proposal (None: they are its member)."""
    if str(company_id) in principal.organisations("company_member"):
        return None
    mine = [uuid.UUID(i) for i in principal.organisations("incubator_member")]
    if not mine:
        return None
    link = await PortfolioLink.select(PortfolioLink.incubator).where(
        (PortfolioLink.company == company_id) & PortfolioLink.incubator.is_in(mine)
        & (PortfolioLink.status == PortfolioLink.Status.accepted)).first()
    return link["incubator"] if link else None


async def tell_company(proposal: dict[str, Any], challenge: dict[str, Any], incubator_id: Any, stage_name: str | None = None) -> None:
    """Every member of the company: an incubator started (or, with `stage_name`, submitted a stage of) a proposal in its name."""
    names = {o["id"]: o["name"] for o in await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.id.is_in([incubator_id, proposal["company"]]))}
    words = {"incubator": names.get(incubator_id, "-"), "company": names.get(proposal["company"], "-"),
             "challenge": challenge["title"] or "-"}
    link = f"/proposals/{proposal['id']}"

    def body() -> str:
        submitted = _("Stage submitted: %(stage)s.", stage=_(stage_name)) + " " if stage_name else ""
        return submitted + _("You can read it on its page and withdraw it there if you do not want it.")

    if stage_name is None:
        kind = "proposal_started_by_incubator"
        heading = N_("%(incubator)s started a proposal for \"%(challenge)s\" in the name of %(company)s")
    else:
        kind = "proposal_submitted_by_incubator"
        heading = N_("%(incubator)s submitted a proposal for \"%(challenge)s\" in the name of %(company)s")
    await tell_members(proposal["company"], "company_member", kind, link, heading, body, words, stage=stage_name or "")
