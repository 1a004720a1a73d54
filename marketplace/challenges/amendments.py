"""Amending a published challenge: a new public version with a change note; deadlines only move later;
every follower and every company with a proposal is told."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import msgspec

from marketplace.accounts.tables import Membership, User
from marketplace.challenges import rules, schemas
from marketplace.challenges.search_index import learn_words
from marketplace.challenges.services import _ceiling, _changes, challenge_out, get_row, snapshot, stage_rows
from marketplace.challenges.tables import Challenge, ChallengeStage, ChallengeVersion, Follow
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.errors import FieldError, Invalid
from marketplace.core.i18n import N_
from marketplace.mail.services import enqueue_mail, notify
from marketplace.settings import get_settings
from marketplace.transparency.audit import record

SAME_MINUTE = timedelta(minutes=1)


async def amend(principal: Principal, row: dict, data: schemas.ChallengePatch) -> schemas.ChallengeOut:
    """Apply an amendment to a published challenge (the buyer team has been checked by the caller)."""
    data = await _without_unchanged_dates(row, data)
    errors: list[FieldError] = []
    note = "" if data.change_note is msgspec.UNSET else data.change_note.strip()
    if not note:
        errors.append(FieldError("change_note", "is required to amend a published challenge: say what changed and why"))
    if data.procedure is not msgspec.UNSET:
        errors.append(FieldError("procedure", "cannot change once the challenge is published"))
    moment = now()
    values, field_errors = _changes(data, await _ceiling(row["buyer"]), row["procedure_template"], moment)
    errors += field_errors
    values.pop("schedule", None)  # published deadlines live on the stage rows
    for name in ("title", "summary", "problem", "affected_users", "desired_outcomes"):
        if name in values and not values[name]:
            errors.append(FieldError(name, "cannot be emptied on a published challenge"))
    for name in ("topics", "cpv_codes"):
        if name in values and not json.loads(values[name]):
            errors.append(FieldError(name, "cannot be emptied on a published challenge"))
    stages = await stage_rows(row["id"])
    new_closes: dict[str, Any] = {}
    if data.schedule is not msgspec.UNSET:
        by_key = {s["key"]: s for s in stages}
        for item in data.schedule:
            stage = by_key.get(item.stage)
            field = f"schedule.{item.stage}.closes_at"
            if stage is None:
                errors.append(FieldError(f"schedule.{item.stage}", "is not a stage of this challenge"))
            elif not rules.is_aware(item.closes_at):
                errors.append(FieldError(field, "must include a time zone"))
            elif abs(as_utc(item.closes_at) - as_utc(stage["closes_at"])) < SAME_MINUTE:
                continue  # unchanged (forms show deadlines to the minute)
            elif stage["status"] not in ("pending", "open"):
                errors.append(FieldError(field, "cannot change: this stage has already closed"))
            elif item.closes_at < as_utc(stage["closes_at"]):
                errors.append(FieldError(field, "may only move later once published"))
            elif item.closes_at != as_utc(stage["closes_at"]):
                new_closes[item.stage] = as_utc(item.closes_at)
    if "qa_closes_at" in values:
        old = as_utc(row["qa_closes_at"]) if row["qa_closes_at"] else None
        new = values["qa_closes_at"]
        if old is not None and new is not None and rules.is_aware(new) and abs(new - old) < SAME_MINUTE:
            values.pop("qa_closes_at")
            new = old
        if new is None or (old is not None and rules.is_aware(new) and new < old):
            errors.append(FieldError("qa_closes_at", "may only move later once published"))
    planned = _replan(stages, new_closes)
    from marketplace.procedures import engine

    min_open = engine.get(row["procedure_template"], row["procedure_version"]).min_open(get_settings().min_stage_open_days)
    for s in planned:
        if s["key"] in new_closes or s["moved"]:
            if s["closes_at"] - s["opens_at"] < min_open or s["closes_at"] <= s["opens_at"]:
                errors.append(FieldError(f"schedule.{s['key']}.closes_at", rules.too_short(min_open)))
    last_close = planned[-1]["closes_at"] if planned else None
    qa = values.get("qa_closes_at", row["qa_closes_at"])
    if qa is not None and last_close is not None and rules.is_aware(as_utc(qa)) and as_utc(qa) > last_close:
        errors.append(FieldError("qa_closes_at", "must not be after the last stage closes"))
    if errors:
        raise Invalid(errors)
    async with transaction():
        for s in planned:
            if s["key"] in new_closes or s["moved"]:
                await ChallengeStage.update({ChallengeStage.opens_at: s["opens_at"], ChallengeStage.closes_at: s["closes_at"]}).where(
                    ChallengeStage.id == s["id"])
        version = row["version"] + 1
        values.update(version=version, updated_at=moment)
        await Challenge.update({getattr(Challenge, k): v for k, v in values.items()}).where(Challenge.id == row["id"])
        fresh = await get_row(row["id"])
        await learn_words(fresh, before=row)  # the amendment's new words can be suggested
        snap = snapshot(fresh)
        snap["stages"] = {s["key"]: rfc3339(s["closes_at"]) for s in planned}
        await ChallengeVersion.insert(ChallengeVersion(challenge=row["id"], version=version, snapshot=json.dumps(snap),
                                                       change_note=note, created_by=principal.user_id))
        await tell_about_amendment(fresh, note)
        await record(principal, "challenge.amended", "challenge", row["id"], {"version": version, "change_note": note,
                     "fields": sorted(k for k in values if k not in ("version", "updated_at"))},
                     before={"version": row["version"]}, after={"version": version})
    return await challenge_out(await get_row(row["id"]))


async def _without_unchanged_dates(row: dict, data: schemas.ChallengePatch) -> schemas.ChallengePatch:
    """Forms send every deadline back, to the minute: the ones that did not change are no amendment (and a stage
    that already closed is no error)."""
    def same(a: Any, b: Any) -> bool:
        return b is not None and rules.is_aware(a) and abs(as_utc(a) - as_utc(b)) < SAME_MINUTE

    if data.schedule is not msgspec.UNSET:
        closes = {s["key"]: s["closes_at"] for s in await stage_rows(row["id"])}
        data = msgspec.structs.replace(data, schedule=[i for i in data.schedule if not same(i.closes_at, closes.get(i.stage))])
    if data.qa_closes_at not in (msgspec.UNSET, None) and same(data.qa_closes_at, row["qa_closes_at"]):
        data = msgspec.structs.replace(data, qa_closes_at=msgspec.UNSET)
    return data


def _replan(stages: list[dict], new_closes: dict[str, Any]) -> list[dict]:
    """Move the named deadlines; a later stage that would open before its predecessor closes opens then instead,
    and keeps its length."""
    out = []
    previous_close = None
    for s in stages:
        opens, closes = as_utc(s["opens_at"]), as_utc(s["closes_at"])
        moved = False
        if previous_close is not None and previous_close > opens:
            length = closes - opens
            opens, moved = previous_close, True
            closes = max(closes, opens + length)
        closes = new_closes.get(s["key"], closes)
        out.append({"id": s["id"], "key": s["key"], "opens_at": opens, "closes_at": closes, "moved": moved})
        previous_close = closes
    return out


async def people_to_tell(challenge_id: Any) -> list[dict]:
    """Followers, and the members of every company with a proposal on the challenge (each once)."""
    users = {r["user"] for r in await Follow.select(Follow.user).where(Follow.challenge == challenge_id)}
    try:
        from marketplace.proposals.services import companies_with_proposals  # type: ignore[import-not-found]
    except ImportError:  # the proposals domain is not installed
        companies_with_proposals = None
    if companies_with_proposals is not None:
        org_ids = await companies_with_proposals(challenge_id)
        if org_ids:
            members = await Membership.select(Membership.user).where(
                Membership.organisation.is_in([uuid.UUID(str(o)) for o in org_ids]) & (Membership.role == "company_member"))
            users |= {m["user"] for m in members}
    if not users:
        return []
    return await User.select(User.id, User.email, User.name, User.locale).where(User.id.is_in(list(users)) & (User.active == True))  # noqa: E712


async def tell_about_amendment(row: dict, note: str) -> None:
    link = f"/challenges/{row['id']}"
    for user in await people_to_tell(row["id"]):
        await notify(user["id"], "challenge_amended", N_("Amended: %(title)s"), note, link, title=row["title"])
        await enqueue_mail(user["email"], "challenge_amended", locale=user["locale"], name=user["name"], title=row["title"],
                           version=row["version"], note=note, link=link)
