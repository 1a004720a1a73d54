"""A civil servant asks the buyer's procurement officers to approve a complete draft; officers see what awaits them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from marketplace.accounts.tables import Membership
from marketplace.challenges.services import SNAPSHOT_FIELDS, publication_plan, snapshot, team_row
from marketplace.challenges.tables import ApprovalRound, Challenge
from marketplace.core.auth import Principal
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid
from marketplace.core.i18n import N_
from marketplace.mail.services import enqueue_mail, notify
from marketplace.transparency.audit import record


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
        await ApprovalRound.update({ApprovalRound.outcome: ApprovalRound.Outcome.sent_back, ApprovalRound.decided_at: moment}).where(
            (ApprovalRound.challenge == row["id"]) & (ApprovalRound.outcome == ApprovalRound.Outcome.pending))  # superseded
        await ApprovalRound.insert(ApprovalRound(challenge=row["id"], requested_by=uuid.UUID(principal.user_id),
                                                 requested_at=moment, snapshot=json.dumps(snapshot(row), sort_keys=True)))
        await record(principal, "challenge.approval_requested", "challenge", row["id"], {"officers": len(officers)})
        for officer in officers:
            await notify(officer["user.id"], "approval_requested", N_("A draft awaits your approval: %(title)s"), "", link, title=title)
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


# --- the officer's answer: publish (services.publish) or send back with comments ---------------------

COMMENTABLE = (*SNAPSHOT_FIELDS, "procedure", "schedule", "budget_cap")


async def send_back(principal: Principal, challenge_id: Any, comments: list[dict[str, str]]) -> dict:
    """A procurement officer returns a draft to its authors with comments (per field, or on the whole
    draft). The request ends; the authors are told in-app and by e-mail and see the comments in the editor."""
    row = await team_row(principal, challenge_id)
    if not principal.has_role("procurement_officer", organisation_id=str(row["buyer"])):
        raise Forbidden("Only a procurement officer of the buyer can send a draft back.")
    if row["status"] != "draft":
        raise Conflict(f"Only a draft can be sent back; this challenge is {row['status']}.")
    cleaned = [{"field": (c.get("field") or "").strip(), "text": (c.get("text") or "").strip()} for c in comments]
    cleaned = [c for c in cleaned if c["text"]]
    errors = [FieldError(f"comments[{i}].field", "is not a field of the challenge")
              for i, c in enumerate(cleaned) if c["field"] and c["field"] not in COMMENTABLE]
    if not cleaned:
        errors.append(FieldError("comments", "needs at least one comment, so the authors know what to change"))
    if errors:
        raise Invalid(errors)
    moment = now()
    authors = await Membership.select(Membership.user.id, Membership.user.email, Membership.user.locale).where(
        (Membership.organisation == row["buyer"]) & (Membership.role == "civil_servant"))
    link = f"/challenges/{row['id']}/edit"
    title = row["title"] or "-"
    async with transaction():
        pending = await ApprovalRound.update({
            ApprovalRound.outcome: ApprovalRound.Outcome.sent_back, ApprovalRound.decided_by: uuid.UUID(principal.user_id),
            ApprovalRound.decided_at: moment, ApprovalRound.comments: json.dumps(cleaned),
        }).where((ApprovalRound.challenge == row["id"]) & (ApprovalRound.outcome == ApprovalRound.Outcome.pending)).returning(
            ApprovalRound.id)
        if not pending:  # sent back without a request (e.g. a draft the officer opened): a round of its own
            await ApprovalRound.insert(ApprovalRound(
                challenge=row["id"], requested_by=None, requested_at=moment, snapshot=json.dumps(snapshot(row), sort_keys=True),
                outcome=ApprovalRound.Outcome.sent_back, decided_by=uuid.UUID(principal.user_id), decided_at=moment,
                comments=json.dumps(cleaned)))
        await Challenge.update({Challenge.approval_requested_at: None, Challenge.approval_requested_by: None}).where(
            Challenge.id == row["id"])
        await record(principal, "challenge.sent_back", "challenge", row["id"], {"comments": len(cleaned)})
        for author in authors:
            await notify(author["user.id"], "draft_sent_back", N_("Your draft was sent back with comments: %(title)s"), "", link,
                         title=title)
            await enqueue_mail(author["user.email"], "draft_sent_back", locale=author["user.locale"], title=title, link=link,
                               comments=cleaned)
    return {"comments": len(cleaned), "authors": len(authors)}


async def approval_state(row: dict[str, Any]) -> dict[str, Any]:
    """Where the draft's approval stands: the latest round (pending, sent back with comments, published),
    and the changes since the round before it (field -> (before, after)) for the officer."""
    rounds = await ApprovalRound.select(ApprovalRound.all_columns(), ApprovalRound.decided_by.name.as_alias("decided_by_name"),
                                        ApprovalRound.requested_by.name.as_alias("requested_by_name")).where(
        ApprovalRound.challenge == row["id"]).order_by(ApprovalRound.requested_at, ascending=False).limit(2)
    latest = rounds[0] if rounds else None
    out: dict[str, Any] = {"state": "none", "comments": [], "changes": {}, "round": None, "comments_by_field": {}}
    if latest is None:
        return out
    out["round"] = {"outcome": latest["outcome"], "requested_at": rfc3339(latest["requested_at"]),
                    "requested_by": latest["requested_by_name"], "decided_at": rfc3339(latest["decided_at"]),
                    "decided_by": latest["decided_by_name"]}
    out["state"] = latest["outcome"]
    out["comments"] = json.loads(latest["comments"] or "[]")
    if latest["outcome"] == ApprovalRound.Outcome.pending and len(rounds) == 2:
        # what the authors changed since the officer last sent it back: that round's draft against today's
        before, after = json.loads(rounds[1]["snapshot"]), snapshot(row)
        out["changes"] = {k: (before.get(k), after.get(k)) for k in SNAPSHOT_FIELDS if before.get(k) != after.get(k)}
    by_field: dict[str, str] = {}
    for c in out["comments"]:
        key = c["field"] or "_form"
        by_field[key] = f"{by_field[key]} {c['text']}" if key in by_field else c["text"]
    out["comments_by_field"] = by_field if latest["outcome"] == ApprovalRound.Outcome.sent_back else {}
    return out


async def add_approval_states(rows: list[dict[str, Any]]) -> None:
    """Give each draft row its `approval_state` (pending, sent_back or none) for the team's list."""
    drafts = [r["id"] for r in rows if r["status"] == "draft"]
    latest: dict[Any, str] = {}
    if drafts:
        for r in await ApprovalRound.select(ApprovalRound.challenge, ApprovalRound.outcome).where(
                ApprovalRound.challenge.is_in(drafts)).order_by(ApprovalRound.requested_at):
            latest[r["challenge"]] = r["outcome"]
    for r in rows:
        r["approval_state"] = latest.get(r["id"], "none") if r["status"] == "draft" else "none"
