"""Citizens' pain points and ideas (Co-New; crowdsourcing campaigns): while a problem statement is
drafted, the buyer team opens a public call; anyone (anonymous or signed in) says where the service
fails them along the steps of its user journey, or proposes an idea; others support entries. The team
sees them grouped by step and by support, hides abusive ones (kept for the record), quotes them with
consent in the problem statement, and reports back on each (used, merged, not taken up, with a reason),
shown publicly once the call has closed. Floods are limited per sender."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from marketplace.challenges.services import team_row
from marketplace.challenges.tables import Challenge
from marketplace.cocreation.tables import PainPoint, PainPointCall, PainPointSupport
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound, TooManyRequests, invalid
from marketplace.settings import get_settings
from marketplace.transparency import audit
from marketplace.transparency.audit import record

MAX_STEPS = 12
ENTRIES_PER_HOUR = 5  # per sender and call
SUPPORTS_PER_HOUR = 60  # per sender


def sender_key(ip: str) -> str:
    """A keyed hash of the sender's address: enough to limit floods, useless to identify anyone."""
    return hmac.new(get_settings().secret_key.encode(), f"pain-points:{ip}".encode(), hashlib.sha256).hexdigest()[:64]


def _id(value: Any, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(what) from None


def _clean(text: str, field: str, limit: int, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise invalid(field, "is required")
    if len(text) > limit:
        raise invalid(field, f"must be at most {limit} characters")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise invalid(field, "must not contain control characters")
    return text


# --- the call ------------------------------------------------------------------------------------

async def open_call(principal: Principal, challenge_id: Any, intro: str, steps: list[str], closes_at: datetime) -> dict:
    """The buyer team opens the call (once per challenge; it may be reopened with new dates)."""
    row = await team_row(principal, challenge_id)
    intro = _clean(intro, "intro", 2000)
    steps = [s.strip() for s in steps if s and s.strip()]
    errors = []
    if not steps:
        errors.append(FieldError("steps", "needs at least one step of the user journey"))
    if len(steps) > MAX_STEPS or any(len(s) > 120 for s in steps):
        errors.append(FieldError("steps", f"at most {MAX_STEPS} steps of at most 120 characters"))
    moment = now()
    if as_utc(closes_at) <= moment or as_utc(closes_at) > moment + timedelta(days=365):
        errors.append(FieldError("closes_at", "must be in the future, within a year"))
    if errors:
        raise Invalid(errors)
    values = {PainPointCall.intro: intro, PainPointCall.steps: json.dumps(steps), PainPointCall.closes_at: closes_at,
              PainPointCall.opened_by: uuid.UUID(principal.user_id)}
    async with transaction():
        updated = await PainPointCall.update(values).where(PainPointCall.challenge == row["id"]).returning(PainPointCall.id)
        if not updated:
            await PainPointCall.insert(PainPointCall(challenge=row["id"], **{c._meta.name: v for c, v in values.items()}))
        await audit.record(principal.user_id, "pain_point_call.opened", "challenge", str(row["id"]), {"steps": len(steps)})
    return await call_out(row["id"])


async def get_call(challenge_id: Any) -> dict[str, Any]:
    call = await PainPointCall.select().where(PainPointCall.challenge == _id(challenge_id, "call")).first()
    if call is None:
        raise NotFound("call for pain points")
    return call


async def call_out(challenge_id: Any) -> dict[str, Any]:
    call = await get_call(challenge_id)
    challenge = await Challenge.select(Challenge.title, Challenge.buyer.name.as_alias("buyer_name")).where(
        Challenge.id == call["challenge"]).first()
    return {"id": str(call["id"]), "challenge_id": str(call["challenge"]), "title": challenge["title"] if challenge else "",
            "buyer": challenge["buyer_name"] if challenge else "", "intro": call["intro"], "steps": json.loads(call["steps"]),
            "closes_at": rfc3339(call["closes_at"]), "open": now() < as_utc(call["closes_at"])}


# --- entries -------------------------------------------------------------------------------------

def entry_out(row: dict[str, Any], *, for_team: bool, call_closed: bool) -> dict[str, Any]:
    out = {"id": str(row["id"]), "kind": row["kind"], "step": row["step"], "text": row["text"],
           "author": row["author_name"] or None, "supports": row["supports"], "created_at": rfc3339(row["created_at"])}
    if for_team or call_closed:  # the report back is public once the call has closed
        out["response"] = row["response"]
        out["response_reason"] = row["response_reason"]
    if for_team:
        out |= {"hidden": row["hidden"], "hidden_reason": row["hidden_reason"], "consent_to_quote": row["consent_to_quote"],
                "quoted": row["quoted"]}
    return out


async def submit(challenge_id: Any, principal: Principal | None, ip: str, kind: str, step: str, text: str,
                 author_name: str, consent_to_quote: bool) -> dict[str, Any]:
    """Anyone adds a pain point (at a step) or an idea while the call is open."""
    call = await get_call(challenge_id)
    if now() >= as_utc(call["closes_at"]):
        raise Conflict("This call has closed: entries are no longer taken.")
    if kind not in ("pain_point", "idea"):
        raise invalid("kind", "must be pain_point or idea")
    steps = json.loads(call["steps"])
    step = (step or "").strip()
    if step and step not in steps:
        raise invalid("step", "is not a step of this journey")
    if kind == "pain_point" and not step:
        raise invalid("step", "is required for a pain point: where in the journey does it happen?")
    text = _clean(text, "text", 3000)
    author_name = _clean(author_name, "name", 120, required=False)
    source = sender_key(ip)
    recent = await PainPoint.count().where((PainPoint.call_id == call["id"]) & (PainPoint.source == source)
                                           & (PainPoint.created_at > now() - timedelta(hours=1)))
    if recent >= ENTRIES_PER_HOUR:
        raise TooManyRequests("You have sent many entries in the last hour: please try again later.", retry_after=3600)
    row = PainPoint(call_id=call["id"], kind=kind, step=step, text=text, author_name=author_name,
                    author=uuid.UUID(principal.user_id) if principal else None, consent_to_quote=bool(consent_to_quote),
                    source=source)
    async with transaction():
        await row.save()
        await record(principal.user_id if principal else "anonymous", "pain_point.submitted", "challenge", challenge_id,
                     {"entry": str(row.id), "kind": kind}, ip=ip)
    saved = await PainPoint.select().where(PainPoint.id == row.id).first()
    return entry_out(saved, for_team=False, call_closed=False)


async def support(entry_id: Any, principal: Principal | None, ip: str) -> dict[str, Any]:
    """Support an entry once (per person, or per sender when anonymous)."""
    entry = await PainPoint.select().where(PainPoint.id == _id(entry_id, "entry")).first()
    if entry is None or entry["hidden"]:
        raise NotFound("entry")
    call = await PainPointCall.select(PainPointCall.closes_at).where(PainPointCall.id == entry["call_id"]).first()
    if now() >= as_utc(call["closes_at"]):
        raise Conflict("This call has closed.")
    supporter = f"user:{principal.user_id}" if principal else sender_key(ip)
    recent = await PainPointSupport.count().where((PainPointSupport.supporter == supporter)
                                                  & (PainPointSupport.created_at > now() - timedelta(hours=1)))
    if recent >= SUPPORTS_PER_HOUR:
        raise TooManyRequests("Too many supports in the last hour: please try again later.", retry_after=3600)
    try:
        async with transaction():
            await PainPointSupport.insert(PainPointSupport(pain_point=entry["id"], supporter=supporter))
            await PainPoint.update({PainPoint.supports: PainPoint.supports + 1}).where(PainPoint.id == entry["id"])
            await record(principal.user_id if principal else "anonymous", "pain_point.supported", "pain_point", entry["id"], ip=ip)
    except Exception as exc:
        if not is_integrity_error(exc):
            raise
    count = await PainPoint.select(PainPoint.supports).where(PainPoint.id == entry["id"]).first()
    return {"id": str(entry["id"]), "supports": count["supports"]}


async def public_entries(challenge_id: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    call = await call_out(challenge_id)
    rows = await PainPoint.select().where((PainPoint.call_id == uuid.UUID(call["id"])) & (PainPoint.hidden == False)).order_by(  # noqa: E712
        PainPoint.supports, ascending=False).order_by(PainPoint.created_at)
    return call, [entry_out(r, for_team=False, call_closed=not call["open"]) for r in rows]


async def team_entries(principal: Principal, challenge_id: Any) -> dict[str, Any]:
    """Everything, hidden entries included, grouped by journey step (ideas apart), most supported first."""
    row = await team_row(principal, challenge_id)
    call = await call_out(row["id"])
    rows = await PainPoint.select().where(PainPoint.call_id == uuid.UUID(call["id"])).order_by(
        PainPoint.supports, ascending=False).order_by(PainPoint.created_at)
    entries = [entry_out(r, for_team=True, call_closed=not call["open"]) for r in rows]
    groups = [{"step": s, "entries": [e for e in entries if e["kind"] == "pain_point" and e["step"] == s]} for s in call["steps"]]
    ideas = [e for e in entries if e["kind"] == "idea"]
    return {"call": call, "steps": groups, "ideas": ideas, "items": entries, "next_cursor": None}


async def _team_entry(principal: Principal, entry_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    entry = await PainPoint.select().where(PainPoint.id == _id(entry_id, "entry")).first()
    if entry is None:
        raise NotFound("entry")
    call = await PainPointCall.select(PainPointCall.challenge).where(PainPointCall.id == entry["call_id"]).first()
    entry["challenge_id"] = call["challenge"]
    try:
        row = await team_row(principal, entry["challenge_id"])
    except NotFound:
        raise NotFound("entry") from None
    return entry, row


async def hide(principal: Principal, entry_id: Any, reason: str) -> dict[str, Any]:
    entry, row = await _team_entry(principal, entry_id)
    reason = _clean(reason, "reason", 1000)
    await PainPoint.update({PainPoint.hidden: True, PainPoint.hidden_reason: reason}).where(PainPoint.id == entry["id"])
    await audit.record(principal.user_id, "pain_point.hidden", "challenge", str(row["id"]), {"entry": str(entry["id"]), "reason": reason})
    return entry_out(await PainPoint.select().where(PainPoint.id == entry["id"]).first(), for_team=True, call_closed=False)


async def report_back(principal: Principal, entry_id: Any, response: str, reason: str) -> dict[str, Any]:
    entry, row = await _team_entry(principal, entry_id)
    if response not in ("used", "merged", "not_taken_up"):
        raise invalid("response", "must be used, merged or not_taken_up")
    reason = _clean(reason, "reason", 2000, required=response != "used")
    await PainPoint.update({PainPoint.response: response, PainPoint.response_reason: reason}).where(PainPoint.id == entry["id"])
    await audit.record(principal.user_id, "pain_point.answered", "challenge", str(row["id"]), {"entry": str(entry["id"]), "response": response})
    return entry_out(await PainPoint.select().where(PainPoint.id == entry["id"]).first(), for_team=True, call_closed=False)


async def quote(principal: Principal, entry_id: Any) -> dict[str, Any]:
    """Quote an entry whose author consented in the draft's problem statement (as a quotation with its step)."""
    entry, row = await _team_entry(principal, entry_id)
    if not entry["consent_to_quote"]:
        raise Conflict("Its author did not consent to be quoted.", [FieldError("consent_to_quote", "was not given")])
    if row["status"] != "draft":
        raise Conflict("Quotes go into a draft's problem statement; a published challenge changes through an amendment.")
    where = f" ({entry['step']})" if entry["step"] else ""
    line = f"“{entry['text']}”{where}"
    problem = (row["problem"] or "").rstrip()
    if line in problem:
        return {"problem": problem}
    problem = f"{problem}\n\n{line}" if problem else line
    async with transaction():
        await Challenge.update({Challenge.problem: problem[:20_000], Challenge.updated_at: now()}).where(Challenge.id == row["id"])
        await PainPoint.update({PainPoint.quoted: True, PainPoint.response: entry["response"] or "used"}).where(
            PainPoint.id == entry["id"])
        await record(principal, "pain_point.quoted", "challenge", row["id"], {"entry": str(entry["id"])})
    return {"problem": problem}
