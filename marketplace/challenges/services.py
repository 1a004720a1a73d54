"""Problem statements: drafts, publication (now or at a date), amendments, and who may see and do what."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import msgspec

from marketplace.accounts.tables import Organisation
from marketplace.challenges import rules, schemas
from marketplace.challenges.tables import Challenge, ChallengeStage, ChallengeVersion, CoSponsor
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, from_db, now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from marketplace.core.i18n import N_
from marketplace.core.money import Money
from marketplace.procedures import engine
from marketplace.settings import get_settings
from marketplace.transparency.audit import record

TEAM_ROLES = ("civil_servant", "procurement_officer", "buyer_admin")
PUBLIC_STATUSES = ("published", "awarded", "closed", "archived")
TEXT_FIELDS = ("title", "summary", "problem", "affected_users", "tried_before", "desired_outcomes", "constraints")
# What a version snapshot records (what the public sees of the challenge).
SNAPSHOT_FIELDS = (*TEXT_FIELDS, "topics", "cpv_codes", "budget_cap_cents", "currency", "max_duration_days", "qa_closes_at")


def parse_id(value: Any, what: str = "challenge") -> uuid.UUID:
    """Ids are UUIDs; anything else is simply not found."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(what) from None


def is_buyer_team(principal: Principal | None, row: dict) -> bool:
    """Civil servants, procurement officers and admins of the challenge's public body."""
    return principal is not None and principal.has_role(*TEAM_ROLES, organisation_id=str(row["buyer"]))


def is_public(row: dict) -> bool:
    return row["status"] in PUBLIC_STATUSES


async def get_row(challenge_id: Any) -> dict:
    """The challenge's row, with its buyer's name (`buyer_name`) read in the same query."""
    row = await Challenge.select(*Challenge.all_columns(), Challenge.buyer.name.as_alias("buyer_name")).where(
        Challenge.id == parse_id(challenge_id)).first()
    if row is None:
        raise NotFound("challenge")
    return row


async def visible_row(principal: Principal | None, challenge_id: Any) -> dict:
    """The challenge if this caller may see it: published ones for anyone, drafts for the buyer team (404 otherwise)."""
    row = await get_row(challenge_id)
    if not is_public(row) and not is_buyer_team(principal, row):
        raise NotFound("challenge")
    return row


async def team_row(principal: Principal, challenge_id: Any) -> dict:
    """The challenge for its buyer team: 404 when the caller cannot see it, 403 when they see it but are not the team."""
    row = await visible_row(principal, challenge_id)
    if not is_buyer_team(principal, row):
        raise Forbidden("Only the buyer team of this challenge can do this.")
    return row


# --- output ---------------------------------------------------------------------------------------------------------

def template_of(row: dict) -> engine.ProcedureTemplate | None:
    try:
        return engine.get(row["procedure_template"], row["procedure_version"])
    except KeyError:
        return engine.latest(row["procedure_template"])


async def stage_rows(challenge_id: Any) -> list[dict]:
    return await ChallengeStage.select().where(ChallengeStage.challenge == challenge_id).order_by(ChallengeStage.position)


def _stages_out(template: engine.ProcedureTemplate | None, stages: list[dict]) -> list[schemas.StageOut]:
    out = []
    for s in stages:
        spec = template.stage(s["key"]) if template and s["key"] in template.stage_keys else None
        out.append(schemas.StageOut(
            key=s["key"], name=str(spec.name) if spec else s["key"], position=s["position"], status=s["status"],
            opens_at=rfc3339(s["opens_at"]) or "", closes_at=rfc3339(s["closes_at"]) or "",
            asks=[str(f.label) for f in spec.fields] if spec else [],
        ))
    return out


async def co_sponsors_out(challenge_id: Any) -> list[schemas.CoSponsorOut]:
    # Raw SQL: building Piccolo's joined select cost a fifth of a challenge's API item, for a list that is mostly empty.
    rows = await CoSponsor.raw(
        "SELECT o.id AS organisation_id, o.name AS organisation_name, s.statement, s.created_at FROM co_sponsor s "
        "JOIN organisation o ON o.id = s.organisation WHERE s.challenge = {} ORDER BY s.created_at", challenge_id)
    return [schemas.CoSponsorOut(organisation=schemas.BuyerOut(id=str(r["organisation_id"]), name=r["organisation_name"]),
                                 statement=r["statement"], since=rfc3339(from_db(r["created_at"])) or "") for r in rows]


async def challenge_out(row: dict, stages: list[dict] | None = None) -> schemas.ChallengeOut:
    """The challenge as the API shows it: two more queries (stages, co-sponsors) when `row` comes from `get_row`;
    one when the caller already read its `stage_rows`."""
    if "buyer_name" in row:
        buyer = {"id": row["buyer"], "name": row["buyer_name"]}
    else:
        buyer = await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id == row["buyer"]).first()
    overrides = json.loads(row["schedule"] or "{}")
    return schemas.ChallengeOut(
        id=str(row["id"]), status=row["status"], version=row["version"],
        **{name: row[name] for name in TEXT_FIELDS},
        topics=json.loads(row["topics"]), cpv_codes=json.loads(row["cpv_codes"]),
        budget_cap=Money(amount=row["budget_cap_cents"], currency=row["currency"]),
        max_duration_days=row["max_duration_days"],
        procedure=schemas.ProcedureOut(template=row["procedure_template"], version=row["procedure_version"]),
        buyer=schemas.BuyerOut(id=str(buyer["id"]), name=buyer["name"]),
        current_stage=row["current_stage"], qa_closes_at=rfc3339(row["qa_closes_at"]),
        publish_at=rfc3339(row["publish_at"]), published_at=rfc3339(row["published_at"]),
        stages=_stages_out(template_of(row), stages if stages is not None else await stage_rows(row["id"])),
        schedule=[schemas.ScheduleOut(stage=k, closes_at=v) for k, v in overrides.items()],
        co_sponsors=await co_sponsors_out(row["id"]),
        created_at=rfc3339(row["created_at"]) or "", updated_at=rfc3339(row["updated_at"]) or "",
    )


# --- drafts ---------------------------------------------------------------------------------------------------------

async def _ceiling(buyer_id: Any) -> int:
    org = await Organisation.select(Organisation.budget_ceiling_cents).where(Organisation.id == buyer_id).first()
    return org["budget_ceiling_cents"] if org else 0


def _changes(data: schemas.ChallengeIn | schemas.ChallengePatch, ceiling: int, template_id: str,
             moment: datetime) -> tuple[dict, list[FieldError]]:
    """Column values from the request body (only the fields it sets), and what is wrong with them."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []

    def given(name: str) -> bool:
        return getattr(data, name, msgspec.UNSET) is not msgspec.UNSET

    for name in TEXT_FIELDS:
        if given(name):
            values[name] = getattr(data, name).strip()
    if given("topics"):
        values["topics"] = json.dumps(rules.normalise_list(data.topics))
    if given("cpv_codes"):
        codes = rules.normalise_list(data.cpv_codes, lower=False)
        errors += rules.cpv_errors(codes)
        values["cpv_codes"] = json.dumps(codes)
    if given("budget_cap") and data.budget_cap is not None:
        errors += rules.budget_errors(data.budget_cap.amount, data.budget_cap.currency, ceiling)
        values["budget_cap_cents"] = data.budget_cap.amount
        values["currency"] = data.budget_cap.currency
    if given("max_duration_days") and data.max_duration_days is not None:
        values["max_duration_days"] = data.max_duration_days
    if given("procedure") and data.procedure is not None:
        template = engine.latest(data.procedure.template)
        if template is None:
            known = ", ".join(t.id for t in engine.all_latest())
            errors.append(FieldError("procedure.template", f"is not a procedure template (known: {known})"))
        else:
            values["procedure_template"] = template.id
            values["procedure_version"] = template.version
            template_id = template.id
    if given("schedule") and data.schedule is not None:
        template = engine.latest(template_id)
        overrides: dict[str, datetime] = {}
        for i, item in enumerate(data.schedule):
            if item.stage in overrides:
                errors.append(FieldError(f"schedule[{i}].stage", "names a stage twice"))
            overrides[item.stage] = item.closes_at
        if template is not None:
            errors += rules.override_errors(template, overrides, moment)
        values["schedule"] = json.dumps({k: rfc3339(v) if rules.is_aware(v) else v.isoformat() for k, v in overrides.items()})
    if given("qa_closes_at") and data.qa_closes_at is not None:
        if not rules.is_aware(data.qa_closes_at):
            errors.append(FieldError("qa_closes_at", "must include a time zone"))
        elif data.qa_closes_at <= moment:
            errors.append(FieldError("qa_closes_at", "is in the past"))
        values["qa_closes_at"] = as_utc(data.qa_closes_at) if rules.is_aware(data.qa_closes_at) else data.qa_closes_at
    elif given("qa_closes_at"):
        values["qa_closes_at"] = None
    return values, errors


async def create_draft(principal: Principal, data: schemas.ChallengeIn) -> schemas.ChallengeOut:
    """A civil servant starts a problem statement; it may be incomplete."""
    bodies = principal.organisations("civil_servant")
    if data.buyer_id is not None:
        if data.buyer_id not in bodies:
            raise Invalid(FieldError("buyer_id", "is not a public body where you are a civil servant"))
        buyer_id = data.buyer_id
    elif len(bodies) == 1:
        buyer_id = bodies[0]
    else:
        raise Invalid(FieldError("buyer_id", "is required: you are a civil servant in several public bodies"))
    template_id = data.procedure.template if data.procedure else "light"
    values, errors = _changes(data, await _ceiling(buyer_id), template_id, now())
    if errors:
        raise Invalid(errors)
    template = engine.latest(values.get("procedure_template", "light"))
    assert template is not None, "the light template ships with the marketplace"
    row = Challenge(buyer=buyer_id, created_by=principal.user_id, procedure_template=template.id,
                    procedure_version=template.version, budget_cap_cents=min(3_000_000, await _ceiling(buyer_id)))
    for name, value in values.items():
        setattr(row, name, value)
    async with transaction():
        await row.save()
        await record(principal, "challenge.drafted", "challenge", row.id, {"title": row.title}, after={"status": "draft"})
    return await challenge_out(await get_row(row.id))


async def update_challenge(principal: Principal, challenge_id: Any, data: schemas.ChallengePatch) -> schemas.ChallengeOut:
    """Edit a draft (a scheduled one goes back to draft and needs approval again), or amend a published one."""
    row = await team_row(principal, challenge_id)
    if row["status"] == "published":
        from marketplace.challenges.amendments import amend

        return await amend(principal, row, data)
    if row["status"] not in ("draft", "scheduled"):
        raise Conflict(f"A challenge that is {row['status']} can no longer be edited.")
    if data.change_note is not msgspec.UNSET:
        raise Invalid(FieldError("change_note", "is only for amendments of a published challenge"))
    values, errors = _changes(data, await _ceiling(row["buyer"]), row["procedure_template"], now())
    if errors:
        raise Invalid(errors)
    values["updated_at"] = now()
    async with transaction():
        if row["status"] == "scheduled":
            values.update(status="draft", publish_at=None, approved_by=None)
            await ChallengeStage.delete().where(ChallengeStage.challenge == row["id"])
        await Challenge.update({getattr(Challenge, k): v for k, v in values.items()}).where(Challenge.id == row["id"])
        await record(principal, "challenge.edited", "challenge", row["id"], {"fields": sorted(values)},
                     before={"status": row["status"]}, after={"status": values.get("status", row["status"])})
    return await challenge_out(await get_row(row["id"]))


# --- publication ----------------------------------------------------------------------------------------------------

def overrides_of(row: dict) -> dict[str, datetime]:
    return {k: as_utc(datetime.fromisoformat(v.replace("Z", "+00:00"))) for k, v in json.loads(row["schedule"] or "{}").items()}


async def publish(principal: Principal, challenge_id: Any, data: schemas.PublishIn) -> schemas.ChallengeOut:
    """A procurement officer of the buyer approves the challenge: published now, or scheduled for `publish_at`."""
    row = await visible_row(principal, challenge_id)
    if not principal.has_role("procurement_officer", organisation_id=str(row["buyer"])):
        raise Forbidden("Only a procurement officer of the buyer can approve publication.")
    if row["status"] not in ("draft", "scheduled"):
        raise Conflict(f"This challenge is already {row['status']}.")
    moment = now()
    errors, plan = await publication_plan(row, data.publish_at, moment)
    if errors:
        raise Invalid(errors, detail="This challenge cannot be published yet: " + "; ".join(f"{e.field} {e.message}" for e in errors))
    start, template, stages, qa_closes_at = plan
    async with transaction():
        await ChallengeStage.delete().where(ChallengeStage.challenge == row["id"])
        await ChallengeStage.insert(*[
            ChallengeStage(challenge=row["id"], key=s.key, position=i, opens_at=s.opens_at, closes_at=s.closes_at)
            for i, s in enumerate(stages)
        ])
        await Challenge.update({
            Challenge.status: "scheduled", Challenge.publish_at: start, Challenge.approved_by: principal.user_id,
            Challenge.qa_closes_at: qa_closes_at, Challenge.procedure_version: template.version, Challenge.updated_at: moment,
        }).where(Challenge.id == row["id"])
        await record(principal, "challenge.approved", "challenge", row["id"], {"publish_at": rfc3339(start)},
                     before={"status": row["status"]}, after={"status": "scheduled"})
        if data.publish_at is None:
            await go_live(row["id"], principal.user_id)
        from marketplace.challenges.tables import ApprovalRound

        await ApprovalRound.update({  # the request for approval, if any, ends here
            ApprovalRound.outcome: ApprovalRound.Outcome.published, ApprovalRound.decided_by: uuid.UUID(principal.user_id),
            ApprovalRound.decided_at: moment,
        }).where((ApprovalRound.challenge == row["id"]) & (ApprovalRound.outcome == ApprovalRound.Outcome.pending))
    return await challenge_out(await get_row(row["id"]))


async def publication_plan(row: dict, publish_at: datetime | None, moment: datetime) -> tuple[list[FieldError], Any]:
    """What stops the challenge from being published at `publish_at` (None: now), or the plan:
    (start, template, stages, qa_closes_at). Changes nothing: the publish page shows it too."""
    errors = rules.missing_fields(row)
    errors += rules.cpv_errors(json.loads(row["cpv_codes"]))
    errors += rules.budget_errors(row["budget_cap_cents"], row["currency"], await _ceiling(row["buyer"]))
    start = moment
    if publish_at is not None:
        if not rules.is_aware(publish_at):
            errors.append(FieldError("publish_at", "must include a time zone"))
        elif publish_at <= moment:
            errors.append(FieldError("publish_at", "is in the past"))
        else:
            start = as_utc(publish_at)
    template = engine.latest(row["procedure_template"])
    if template is None:
        return [*errors, FieldError("procedure.template", "is not a procedure template")], None
    stages, schedule_errors = rules.plan_stages(template, start, overrides_of(row), moment, get_settings().min_stage_open_days)
    errors += schedule_errors
    qa_closes_at = as_utc(row["qa_closes_at"]) if row["qa_closes_at"] else rules.default_qa_deadline(stages)
    if not schedule_errors:
        errors += rules.qa_errors(qa_closes_at, stages)
    return errors, (start, template, stages, qa_closes_at)


async def go_live(challenge_id: Any, by_user: Any = None) -> bool:
    """Publish a scheduled challenge (inside the caller's transaction): its first stage opens, version 1 is
    recorded and subscribers are told. False if another worker got there first."""
    moment = now()
    claimed = await Challenge.update({
        Challenge.status: "published", Challenge.published_at: moment, Challenge.updated_at: moment,
    }).where((Challenge.id == challenge_id) & (Challenge.status == "scheduled")).returning(Challenge.id)
    if not claimed:
        return False
    first = await ChallengeStage.select().where(ChallengeStage.challenge == challenge_id).order_by(ChallengeStage.position).first()
    await ChallengeStage.update({ChallengeStage.status: "open"}).where(ChallengeStage.id == first["id"])
    await Challenge.update({Challenge.current_stage: first["key"]}).where(Challenge.id == challenge_id)
    row = await get_row(challenge_id)
    await ChallengeVersion.insert(ChallengeVersion(challenge=challenge_id, version=row["version"], snapshot=json.dumps(snapshot(row)),
                                                   change_note="Published.", created_by=by_user))
    await record(by_user, "challenge.published", "challenge", challenge_id, {"version": row["version"], "stage": first["key"]},
                 before={"status": "scheduled"}, after={"status": "published"})
    from marketplace.challenges.matchmaking import tell_subscribers
    from marketplace.challenges.search_index import learn_words

    await learn_words(row)
    await tell_subscribers(row)
    return True


def snapshot(row: dict) -> dict:
    """The public fields of a challenge, as a version records them."""
    out = {}
    for name in SNAPSHOT_FIELDS:
        value = row[name]
        if name in ("topics", "cpv_codes"):
            value = json.loads(value)
        elif isinstance(value, datetime):
            value = rfc3339(value)
        out[name] = value
    return out


async def unanswered_questions_blocking_close(challenge_id: Any) -> int:
    """Questions asked before the Q&A deadline and still unanswered: a submission stage may not close while any remain."""
    from marketplace.challenges.dialogue import count_blocking_questions

    return await count_blocking_questions(challenge_id)


# --- the end of a challenge -----------------------------------------------------------------------------------------

async def _tell_followers(row: dict, kind: str, title: str, body: str) -> None:
    from marketplace.challenges.tables import Follow
    from marketplace.mail.services import notify

    for f in await Follow.select(Follow.user).where(Follow.challenge == row["id"]):
        await notify(f["user"], kind, title, body, f"/challenges/{row['id']}", title=row["title"])


async def close_without_award(principal: Principal, challenge_id: Any, reason: str) -> schemas.ChallengeOut:
    """A procurement officer of the buyer ends a published challenge without an award; the reason is public."""
    row = await team_row(principal, challenge_id)
    if not principal.has_role("procurement_officer", organisation_id=str(row["buyer"])):
        raise Forbidden("Only a procurement officer of the buyer can close a challenge.")
    reason = reason.strip()
    if not reason:
        raise Invalid(FieldError("reason", "is required: say publicly why the challenge ends without an award"))
    moment = now()
    async with transaction():
        done = await Challenge.update({Challenge.status: "closed", Challenge.closed_at: moment, Challenge.updated_at: moment}).where(
            (Challenge.id == row["id"]) & (Challenge.status == "published")).returning(Challenge.id)
        if not done:
            raise Conflict(f"Only a published challenge can be closed; this one is {row['status']}.")
        await ChallengeVersion.insert(ChallengeVersion(challenge=row["id"], version=row["version"] + 1, snapshot=json.dumps(snapshot(row)),
                                                       change_note=f"Closed without award: {reason}", created_by=principal.user_id))
        await Challenge.update({Challenge.version: row["version"] + 1}).where(Challenge.id == row["id"])
        await _tell_followers(row, "challenge_closed", N_("Closed without award: %(title)s"), reason)
        await record(principal, "challenge.closed", "challenge", row["id"], {"reason": reason}, before={"status": "published"},
                     after={"status": "closed"})
    return await challenge_out(await get_row(row["id"]))


async def mark_awarded(challenge_id: Any) -> bool:
    """For the awards domain: the challenge ended with at least one test contract awarded. False if it was not published."""
    moment = now()
    async with transaction():
        done = await Challenge.update({Challenge.status: "awarded", Challenge.closed_at: moment, Challenge.updated_at: moment}).where(
            (Challenge.id == parse_id(challenge_id)) & (Challenge.status == "published")).returning(Challenge.id)
        if done:
            await record(None, "challenge.awarded", "challenge", challenge_id, before={"status": "published"}, after={"status": "awarded"})
    return bool(done)


async def archive(principal: Principal, challenge_id: Any) -> schemas.ChallengeOut:
    """The buyer team files away an awarded or closed challenge: it stays public, out of the default catalogue."""
    row = await team_row(principal, challenge_id)
    async with transaction():
        done = await Challenge.update({Challenge.status: "archived", Challenge.updated_at: now()}).where(
            (Challenge.id == row["id"]) & Challenge.status.is_in(["awarded", "closed"])).returning(Challenge.id)
        if not done:
            raise Conflict(f"Only an awarded or closed challenge can be archived; this one is {row['status']}.")
        await record(principal, "challenge.archived", "challenge", row["id"], before={"status": row["status"]}, after={"status": "archived"})
    return await challenge_out(await get_row(row["id"]))
