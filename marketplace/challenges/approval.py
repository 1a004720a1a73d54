"""A civil servant asks the buyer's procurement officers to approve a complete draft; officers see what awaits them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from marketplace.accounts.tables import Membership
from marketplace.challenges.services import publication_plan, team_row
from marketplace.challenges.tables import Challenge
from marketplace.core.auth import Principal
from marketplace.core.clock import now
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, Forbidden, Invalid
from marketplace.core.i18n import current_locale
from marketplace.core.i18n import gettext as _
from marketplace.mail.services import enqueue_mail, notify


@contextmanager
def in_locale(locale: str) -> Iterator[None]:
    """Translate for a recipient (notifications are stored in their language), not for the current request."""
    token = current_locale.set(locale or "en")
    try:
        yield
    finally:
        current_locale.reset(token)


async def request_approval(principal: Principal, challenge_id: Any) -> dict:
    """A civil servant of the buyer asks its procurement officers to approve a draft that is complete
    (422 naming what is missing otherwise). Each officer gets an in-app notification and an e-mail."""
    row = await team_row(principal, challenge_id)
    if not principal.has_role("civil_servant", organisation_id=str(row["buyer"])):
        raise Forbidden("Only a civil servant of the buyer can ask for approval.")
    if row["status"] != "draft":
        raise Conflict(f"Only a draft awaits approval; this challenge is {row['status']}.")
    moment = now()
    errors, _plan = await publication_plan(row, None, moment)
    if errors:
        raise Invalid(errors, detail="Complete the draft first: " + "; ".join(f"{e.field} {e.message}" for e in errors))
    officers = await Membership.select(Membership.user.id, Membership.user.email, Membership.user.locale).where(
        (Membership.organisation == row["buyer"]) & (Membership.role == "procurement_officer"))
    if not officers:
        raise Conflict("Your public body has no procurement officer on the platform yet: ask its administrator to invite one.")
    link = f"/challenges/{row['id']}/publish"
    title = row["title"] or "-"
    async with transaction():
        await Challenge.update({Challenge.approval_requested_at: moment, Challenge.approval_requested_by: uuid.UUID(principal.user_id)}).where(
            Challenge.id == row["id"])
        for officer in officers:
            with in_locale(officer["user.locale"]):
                heading = _("A draft awaits your approval: %(title)s", title=title)
            await notify(officer["user.id"], "approval_requested", heading, "", link)
            await enqueue_mail(officer["user.email"], "approval_requested", locale=officer["user.locale"], title=title, link=link)
    return {"officers": len(officers)}


async def awaiting_approval(principal: Principal) -> list[dict]:
    """For a procurement officer: the drafts of their public bodies whose approval was requested, oldest request first."""
    bodies = [uuid.UUID(o) for o in principal.organisations("procurement_officer")]
    if not bodies:
        return []
    return await Challenge.select(Challenge.id, Challenge.title, Challenge.approval_requested_at, Challenge.buyer.name,
                                  Challenge.approval_requested_by.name.as_alias("requested_by")).where(
        Challenge.buyer.is_in(bodies) & (Challenge.status == "draft") & Challenge.approval_requested_at.is_not_null()
    ).order_by(Challenge.approval_requested_at)
