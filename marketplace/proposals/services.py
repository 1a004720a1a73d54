"""Staged proposals: start, save a stage's answers, submit and resubmit until the deadline, withdraw,
and read them through the sealing rules of `access`."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from marketplace.accounts.tables import Organisation
from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, from_db, now, rfc3339
from marketplace.core.db import is_integrity_error, stamp_before, transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, invalid
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.procedures.engine import ProcedureTemplate
from marketplace.proposals import access, answers, consent, lifecycle, receipts, schemas
from marketplace.proposals.tables import Decision, Proposal, ProposalStage, ProposalStageVersion
from marketplace.transparency.audit import record

ACTIVE = (Proposal.Status.draft, Proposal.Status.submitted, Proposal.Status.advanced, Proposal.Status.selected,
          Proposal.Status.awarded)
VISIBLE_CHALLENGE = (Challenge.Status.published, Challenge.Status.awarded, Challenge.Status.closed)


def parse_uuid(value: Any, what: str) -> uuid.UUID:
    """Ids are UUIDs; anything else is simply not found (never a 500)."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(what) from None


def template_of(challenge: dict[str, Any]) -> ProcedureTemplate:
    return engine.get(challenge["procedure_template"], challenge["procedure_version"])


async def get_challenge(challenge_id: Any) -> dict[str, Any]:
    row = await Challenge.select().where(Challenge.id == parse_uuid(challenge_id, "challenge")).first()
    if row is None or row["status"] not in VISIBLE_CHALLENGE:
        raise NotFound("challenge")
    return row


async def stage_rows(challenge_id: Any) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in await lifecycle.stages_of(challenge_id)}


async def _load(proposal_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    proposal = await Proposal.select().where(Proposal.id == parse_uuid(proposal_id, "proposal")).first()
    if proposal is None:
        raise NotFound("proposal")
    challenge = await Challenge.select().where(Challenge.id == proposal["challenge"]).first()
    return proposal, challenge


load_proposal = _load


async def _load_for_team(principal: Principal, proposal_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    proposal, challenge = await _load(proposal_id)
    if str(proposal["company"]) not in await access.team_companies(principal):
        raise NotFound("proposal")
    return proposal, challenge


def _loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _working_copies(proposal_id: Any) -> dict[str, dict[str, Any]]:
    rows = await ProposalStage.select().where(ProposalStage.proposal == proposal_id)
    return {r["stage"]: r for r in rows}


async def _ensure_working_copy(proposal: dict[str, Any], challenge: dict[str, Any], stage_key: str) -> dict[str, Any]:
    """The stage's working copy, created on first use and pre-filled from the profile and earlier stages."""
    copies = await _working_copies(proposal["id"])
    if stage_key in copies:
        return copies[stage_key]
    profile = await Organisation.select().where(Organisation.id == proposal["company"]).first() or {}
    earlier = {k: _loads(v["answers"]) for k, v in copies.items()}
    filled = answers.prefill(template_of(challenge), stage_key, profile, earlier)
    row = ProposalStage(proposal=proposal["id"], stage=stage_key, answers=json.dumps(filled))
    try:
        await row.save()
    except Exception as exc:  # a concurrent request created it first
        if not is_integrity_error(exc):
            raise
        return (await _working_copies(proposal["id"]))[stage_key]
    return row.to_dict()


def _deadline_passed(stage: dict[str, Any]) -> Conflict:
    return Conflict(_("The deadline of this stage passed at %(at)s: submissions are closed.", at=rfc3339(stage["closes_at"])),
                    [FieldError("stage", "is closed")])


def _stage_open_or_conflict(stage: dict[str, Any] | None, moment: datetime) -> None:
    """Submissions and drafts are accepted only while the stage is open, by the server's clock."""
    if stage is None:
        raise NotFound("stage")
    if moment >= as_utc(stage["closes_at"]):
        raise _deadline_passed(stage)
    if stage["status"] != ChallengeStage.Status.open or moment < as_utc(stage["opens_at"]):
        raise Conflict(_("This stage is not open for submissions."), [FieldError("stage", "is not open")])


async def start_proposal(principal: Principal, challenge_id: Any, company_id: str | None) -> schemas.ProposalOut:
    """A company member (or an incubator member for a consenting portfolio company) starts a draft
    proposal while the challenge's first stage is open."""
    challenge = await get_challenge(challenge_id)
    own = set(principal.organisations("company_member"))
    if company_id is None:
        if len(own) != 1:
            raise invalid("company_id", "is required: name the company this proposal is for")
        company_id = next(iter(own))
    company = await Organisation.select().where(Organisation.id == parse_uuid_or_422(company_id)).first()
    if company is None or company["kind"] != Organisation.Kind.company:
        raise invalid("company_id", "is not a registered company")
    if str(company["id"]) not in await access.team_companies(principal):
        raise Forbidden("You may start proposals only for your own company or a portfolio company that consented.")
    await lifecycle.sync_challenge(challenge["id"])
    template = template_of(challenge)
    first = template.stages[0].key
    stages = await stage_rows(challenge["id"])
    moment = now()
    _stage_open_or_conflict(stages.get(first), moment)
    incubator = await consent.acting_incubator(principal, company["id"])
    try:
        async with transaction():
            proposal = Proposal(challenge=challenge["id"], company=company["id"], incubator=incubator,
                                created_by=uuid.UUID(principal.user_id), current_stage=first)
            await proposal.save()
            await _ensure_working_copy(proposal.to_dict(), challenge, first)
            await record(principal, "proposal.started", "proposal", proposal.id, {"challenge": str(challenge["id"]),
                         "company": str(company["id"])}, after={"status": "draft"})
            if incubator is not None:
                await consent.tell_company(proposal.to_dict(), challenge, incubator)
    except Exception as exc:
        if is_integrity_error(exc):
            raise Conflict(_("This company already has a proposal for this challenge."), [FieldError("company_id", "already has a proposal")]) from None
        raise
    return await get_proposal(principal, proposal.id)


def parse_uuid_or_422(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise invalid("company_id", "is not a registered company") from None


async def synced_stages(challenge: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The challenge's stages by key, after applying any deadline due now (read again only if one was)."""
    stages = await lifecycle.stages_of(challenge["id"])
    if await lifecycle.sync_challenge(challenge["id"], challenge=challenge, stages=stages):
        stages = await lifecycle.stages_of(challenge["id"])
    return {s["key"]: s for s in stages}


async def _check_writable(principal: Principal, proposal_id: Any, stage_key: str, action: str | None = None) -> tuple[dict, dict, dict, dict]:
    """(proposal, challenge, stages by key, working copy): each read once, and passed down to the answer.
    The team may change its current stage while it is open; a stage already submitted only when the
    stage allows `edits`, and `action` (e.g. `upload_document`) only when the stage allows it."""
    proposal, challenge = await _load_for_team(principal, proposal_id)
    stages = await synced_stages(challenge)
    template = template_of(challenge)
    if stage_key not in template.stage_keys:
        raise NotFound("stage")
    if proposal["status"] not in ACTIVE:
        raise Conflict(_("This proposal is %(status)s: it can no longer change.", status=proposal["status"]))
    if stage_key != proposal["current_stage"]:
        raise Conflict(_("This proposal is at the stage '%(stage)s'.", stage=template.stage(proposal["current_stage"]).name),
                       [FieldError("stage", "is not the proposal's current stage")])
    _stage_open_or_conflict(stages.get(stage_key), now())
    await _contractors_only(template, challenge, proposal, stage_key)
    if action is not None:
        engine.require(template, stage_key, action)
    copy = await _ensure_working_copy(proposal, challenge, stage_key)
    if copy["version"] > 0:
        engine.require(template, stage_key, "edit_submission")
    return proposal, challenge, stages, copy


async def _team_answer(proposal: dict[str, Any], challenge: dict[str, Any], stages: dict[str, dict[str, Any]],
                       **changed: Any) -> schemas.ProposalOut:
    """The proposal as its team sees it after a write, from the rows already read (and what the write changed)."""
    return await render_proposal({**proposal, **changed}, challenge, access.Viewer(access.TEAM), None, stages=stages)


async def _contractors_only(template: ProcedureTemplate, challenge: dict, proposal: dict, stage_key: str) -> None:
    """After a `paid` stage, the next stage is open only to the proposals holding one of its contracts."""
    paid = lifecycle.paid_stage_before(template, stage_key)
    if paid is None:
        return
    from marketplace.experiments.phases import contractors

    if str(proposal["id"]) not in await contractors(challenge["id"], paid.key):
        raise Conflict(_("Only the holders of a contract of '%(stage)s' take part in this stage.", stage=paid.name),
                       [FieldError("stage", f"opens only to the contractors of `{paid.key}`")])


async def save_answers(principal: Principal, proposal_id: Any, stage_key: str, new: dict[str, Any]) -> schemas.ProposalOut:
    """Save a stage's answers as a draft. Fields left out keep their value; `null` clears one."""
    proposal, challenge, stages, copy = await _check_writable(principal, proposal_id, stage_key)
    spec = template_of(challenge).stage(stage_key)
    errors = answers.check_draft(spec, new)
    if errors:
        raise Invalid(errors)
    merged = _loads(copy["answers"])
    for key, value in new.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    changed = merged != _loads(copy["answers"])
    updates: dict = {ProposalStage.answers: json.dumps(merged), ProposalStage.updated_at: now(),
                     ProposalStage.updated_by: uuid.UUID(principal.user_id)}
    if changed:
        updates[ProposalStage.status] = ProposalStage.Status.draft
    moment = now()
    async with transaction():
        await ProposalStage.update(updates).where(ProposalStage.id == copy["id"])
        await Proposal.update({Proposal.updated_at: moment}).where(Proposal.id == proposal["id"])
    return await _team_answer(proposal, challenge, stages, updated_at=moment)


async def submit_stage(principal: Principal, proposal_id: Any, stage_key: str) -> schemas.ProposalOut:
    """Submit the stage's answers; allowed again (a new kept version) until the deadline."""
    proposal, challenge, stages, copy = await _check_writable(principal, proposal_id, stage_key)
    stage = stages[stage_key]
    spec = template_of(challenge).stage(stage_key)
    current = _loads(copy["answers"])
    errors = answers.check_submission(spec, current, challenge["budget_cap_cents"])
    from marketplace.proposals.attachments import missing_required

    errors += await missing_required(proposal["id"], spec, current)
    if "team" in spec.features:
        from marketplace.proposals.team import submission_errors

        errors += await submission_errors(proposal["id"], spec)
    if errors:
        raise Invalid(errors, detail=_("The stage cannot be submitted yet: %(problems)s",
                                       problems="; ".join(f"{e.field}: {e.message}" for e in errors)))
    incubator = await consent.acting_incubator(principal, proposal["company"])
    documents = await receipts.submitted_documents(proposal["id"], stage_key)
    sha256 = receipts.receipt_sha256(current, documents)
    async with transaction():
        version = copy["version"] + 1
        claimed = await ProposalStage.update({
            ProposalStage.version: version, ProposalStage.status: ProposalStage.Status.submitted, ProposalStage.updated_at: now(),
        }).where((ProposalStage.id == copy["id"]) & (ProposalStage.version == copy["version"])).returning(ProposalStage.id)
        if not claimed:
            raise Conflict(_("Someone submitted this stage at the same moment; reload and try again."))
        status = proposal["status"]
        if status in (Proposal.Status.draft, Proposal.Status.advanced, Proposal.Status.selected, Proposal.Status.awarded):
            status = Proposal.Status.submitted
        await Proposal.update({Proposal.status: status, Proposal.updated_at: now()}).where(Proposal.id == proposal["id"])
        if incubator is not None:
            await consent.tell_company(proposal, challenge, incubator, stage_name=spec.name)
        # metadata only: a submission's content stays sealed, even from the audit trail
        await record(principal, "proposal.submitted", "proposal", proposal["id"], {"stage": stage_key, "version": version},
                     before={"status": proposal["status"]}, after={"status": status})
        # Last: in time or not is decided by the database's clock once every lock is held (then it commits).
        moment = await stamp_before(ProposalStage, copy["id"], ProposalStage.submitted_at, stage["closes_at"])
        if moment is None:
            raise _deadline_passed(stage)
        await ProposalStageVersion.insert(ProposalStageVersion(  # a row of our own: no lock to wait for after the stamp
            proposal_stage=copy["id"], version=version, answers=json.dumps(current), submitted_at=moment,
            submitted_by=uuid.UUID(principal.user_id), sha256=sha256))
        await receipts.send_receipt(principal.email, principal.locale, name=principal.name, challenge=challenge["title"],
                                    stage=str(spec.name), version=version, submitted_at=moment, sha256=sha256, proposal_id=proposal["id"])
    return await _team_answer(proposal, challenge, stages, status=status, updated_at=moment)


async def withdraw(principal: Principal, proposal_id: Any) -> schemas.ProposalOut:
    """The team withdraws its proposal (not once it is awarded)."""
    proposal, _challenge = await _load_for_team(principal, proposal_id)
    async with transaction():
        done = await Proposal.update({Proposal.status: Proposal.Status.withdrawn, Proposal.withdrawn_at: now(), Proposal.updated_at: now()}).where(
            (Proposal.id == proposal["id"]) & Proposal.status.is_in(
                [Proposal.Status.draft, Proposal.Status.submitted, Proposal.Status.advanced, Proposal.Status.selected])
        ).returning(Proposal.id)
        if not done:
            raise Conflict(_("This proposal is %(status)s: it cannot be withdrawn.", status=proposal["status"]))
        await record(principal, "proposal.withdrawn", "proposal", proposal["id"], before={"status": proposal["status"]},
                     after={"status": "withdrawn"})
    return await get_proposal(principal, proposal["id"])


# Reading, through the sealing rules ------------------------------------------------------------------


async def _decisions(proposal_id: Any) -> dict[str, dict[str, Any]]:
    return {d["stage"]: d for d in await Decision.select().where(Decision.proposal == proposal_id)}


async def _latest_versions(copies: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    ids = [c["id"] for c in copies.values()]
    if not ids:
        return {}
    rows = await ProposalStageVersion.select().where(ProposalStageVersion.proposal_stage.is_in(ids)).order_by(ProposalStageVersion.version)
    by_copy: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_copy.setdefault(str(r["proposal_stage"]), []).append(r)
    return {key: by_copy.get(str(c["id"]), []) for key, c in copies.items()}


def _decision_out(d: dict[str, Any] | None, viewer: access.Viewer) -> schemas.DecisionOut | None:
    if d is None or (viewer.kind == access.TEAM and d["notified_at"] is None):
        return None  # the company hears of a decision when the stage closes
    return schemas.DecisionOut(stage=d["stage"], outcome=d["outcome"], feedback=d["feedback"],
                               decided_at=rfc3339(d["notified_at"] if viewer.kind == access.TEAM else d["decided_at"]))


def visible_stage_keys(template: ProcedureTemplate, viewer: access.Viewer, copies: dict[str, dict], stages: dict[str, dict],
                       moment: datetime) -> list[str]:
    """The stages of a proposal this viewer may read."""
    keys = []
    for key in template.stage_keys:
        copy = copies.get(key)
        if copy is None:
            continue
        if viewer.kind == access.TEAM:
            keys.append(key)
        elif copy["version"] > 0 and key in stages and access.unsealed(stages[key]["closes_at"], moment):
            keys.append(key)
    return keys


async def proposal_view(principal: Principal, proposal_id: Any) -> tuple[dict, dict, access.Viewer, list[str]]:
    """Load a proposal for reading: (proposal, challenge, viewer, readable stage keys), or 404."""
    proposal, challenge = await _load(proposal_id)
    viewer = await access.viewer_for(principal, challenge, proposal["company"])
    if viewer.kind == access.NOBODY or (viewer.kind == access.EVALUATOR and viewer.conflict):
        raise NotFound("proposal")
    stages = await stage_rows(challenge["id"])
    current_row = stages.get(proposal["current_stage"])
    if (viewer.kind == access.TEAM and proposal["status"] in ACTIVE and current_row is not None
            and current_row["status"] == ChallengeStage.Status.open):
        await _ensure_working_copy(proposal, challenge, proposal["current_stage"])  # pre-filled when the stage opens to them
    copies = await _working_copies(proposal["id"])
    keys = visible_stage_keys(template_of(challenge), viewer, copies, stages, now())
    if not keys:
        raise NotFound("proposal")
    if viewer.kind == access.EVALUATOR and not viewer.declared:
        raise Conflict(_("Declare whether you have a conflict of interest before opening any proposal of this challenge."),
                       [FieldError("declaration", "is required first")])
    return proposal, challenge, viewer, keys


async def get_proposal(principal: Principal, proposal_id: Any) -> schemas.ProposalOut:
    """A proposal as this person may see it (404 when sealed from them)."""
    proposal, challenge, viewer, keys = await proposal_view(principal, proposal_id)
    return await render_proposal(proposal, challenge, viewer, keys)


async def render_proposal(proposal: dict, challenge: dict, viewer: access.Viewer, keys: list[str] | None,
                          stages: dict[str, dict] | None = None) -> schemas.ProposalOut:
    """`keys`: the stages this viewer may read (None: worked out here); `stages`: the challenge's, if already read."""
    template = template_of(challenge)
    copies = await _working_copies(proposal["id"])
    versions = await _latest_versions(copies)
    decisions = await _decisions(proposal["id"])
    stages = stages if stages is not None else await stage_rows(challenge["id"])
    if keys is None:
        keys = visible_stage_keys(template, viewer, copies, stages, now())
    out_stages = []
    for key in keys:
        copy, spec, row = copies[key], template.stage(key), stages.get(key)
        kept = versions.get(key, [])
        if viewer.kind == access.TEAM:
            shown = _loads(copy["answers"])
            status = copy["status"] if copy["version"] > 0 or copy["status"] == "draft" else "draft"
        else:
            shown = _loads(kept[-1]["answers"]) if kept else {}
            status = "submitted"
        out_stages.append(schemas.StageOut(
            key=key, name=str(spec.name), status=status, version=copy["version"], submitted_at=rfc3339(copy["submitted_at"]),
            opens_at=rfc3339(row["opens_at"]) if row else None, closes_at=rfc3339(row["closes_at"]) if row else None,
            answers=shown, decision=_decision_out(decisions.get(key), viewer),
            versions=[schemas.VersionOut(version=v["version"], submitted_at=rfc3339(v["submitted_at"]), sha256=v["sha256"]) for v in kept],
            decision_kind=spec.decision, max_advancing=engine.advance_cap(spec), decision_rule=engine.decision_rule(spec),
            features=sorted(spec.features),
        ))
    hide_company = viewer.kind == access.EVALUATOR and viewer.blind and keys == [template.stage_keys[0]]
    company = None
    if not hide_company:
        org = await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id == proposal["company"]).first()
        company = schemas.CompanyOut(id=str(org["id"]), name=org["name"])
    from marketplace.proposals.timeline import build_timeline

    timeline, upcoming = build_timeline(proposal, template, copies, versions, decisions, stages, viewer, now())
    return schemas.ProposalOut(
        id=str(proposal["id"]), challenge_id=str(challenge["id"]), challenge_title=challenge["title"], company=company,
        status=proposal["status"], current_stage=proposal["current_stage"],
        created_at=rfc3339(proposal["created_at"]), updated_at=rfc3339(proposal["updated_at"]), stages=out_stages,
        timeline=timeline if viewer.kind == access.TEAM or viewer.kind == access.BUYER else [], next=upcoming,
    )


async def my_proposals(principal: Principal) -> list[schemas.ProposalOut]:
    """Every proposal of the companies this person works for (own company and consenting portfolio)."""
    companies = [uuid.UUID(c) for c in await access.team_companies(principal)]
    if not companies:
        return []
    rows = await Proposal.select().where(Proposal.company.is_in(companies)).order_by(Proposal.updated_at, ascending=False)
    out = []
    for proposal in rows:
        challenge = await Challenge.select().where(Challenge.id == proposal["challenge"]).first()
        copies = await _working_copies(proposal["id"])
        keys = [k for k in template_of(challenge).stage_keys if k in copies]
        out.append(await render_proposal(proposal, challenge, access.Viewer(access.TEAM), keys))
    return out


async def stage_proposals(principal: Principal, challenge_id: Any, stage_key: str | None, limit: int | None = None,
                          cursor: str | None = None) -> tuple[dict, str, list[schemas.ProposalSummaryOut], str | None]:
    """The submitted proposals of a stage whose deadline passed, for the buyer team and assigned evaluators,
    sorted by company name (by id for a blind round). With `limit`, one page read from the database by
    keyset, and the cursor of the next page."""
    from marketplace.core.paging import check_limit, decode_cursor, encode_cursor

    challenge = await get_challenge(challenge_id)
    viewer = await access.buyer_viewer(principal, challenge)
    if viewer.kind == access.NOBODY or viewer.conflict:
        raise NotFound("challenge")
    await lifecycle.sync_challenge(challenge["id"])
    template = template_of(challenge)
    stages = await stage_rows(challenge["id"])
    key = stage_key or _latest_unsealed_stage(template, stages) or template.stage_keys[0]
    if key not in stages:
        raise invalid("stage", f"is not a stage of this challenge ({', '.join(template.stage_keys)})")
    if not access.unsealed(stages[key]["closes_at"]):
        raise Conflict(_("Proposals are sealed until the deadline of this stage, %(at)s.", at=rfc3339(stages[key]["closes_at"])))
    if viewer.kind == access.EVALUATOR and not viewer.declared:
        raise Conflict(_("Declare whether you have a conflict of interest before opening any proposal of this challenge."),
                       [FieldError("declaration", "is required first")])
    blind = viewer.kind == access.EVALUATOR and viewer.blind and key == template.stage_keys[0]
    company_name = ProposalStage.proposal.company.name
    query = ProposalStage.select(
        ProposalStage.all_columns(), ProposalStage.proposal.status.as_alias("proposal_status"),
        ProposalStage.proposal.current_stage.as_alias("proposal_stage"), ProposalStage.proposal.company.as_alias("company_id"),
        company_name.as_alias("company_name"),
    ).where((ProposalStage.stage == key) & (ProposalStage.version > 0) & (ProposalStage.proposal.challenge == challenge["id"])
            & (ProposalStage.proposal.status != Proposal.Status.withdrawn))
    if limit is not None:
        check_limit(limit)
        if blind:
            after = decode_cursor(cursor, 1)
            if after:
                query = query.where(ProposalStage.proposal > after[0])
            query = query.order_by(ProposalStage.proposal)
        else:
            after = decode_cursor(cursor, 2)
            if after:
                query = query.where((company_name > after[0]) | ((company_name == after[0]) & (ProposalStage.proposal > after[1])))
            query = query.order_by(company_name).order_by(ProposalStage.proposal)
        query = query.limit(limit + 1)
    rows = await query
    next_cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last["proposal"]) if blind else encode_cursor(last["company_name"], last["proposal"])
    decisions = {str(d["proposal"]): d for d in await Decision.select().where(
        (Decision.stage == key) & Decision.proposal.is_in([r["proposal"] for r in rows] or [uuid.uuid4()]))}
    items = [schemas.ProposalSummaryOut(
        id=str(r["proposal"]), company=None if blind else schemas.CompanyOut(id=str(r["company_id"]), name=r["company_name"]),
        status=r["proposal_status"], current_stage=r["proposal_stage"], stage=key, version=r["version"],
        submitted_at=rfc3339(r["submitted_at"]), decision=_decision_out(decisions.get(str(r["proposal"])), viewer),
    ) for r in rows]
    if limit is None:
        items.sort(key=lambda i: (i.company.name if i.company else "", i.id))
    return challenge, key, items, next_cursor


def _latest_unsealed_stage(template: ProcedureTemplate, stages: dict[str, dict]) -> str | None:
    found = None
    for key in template.stage_keys:
        if key in stages and access.unsealed(stages[key]["closes_at"]):
            found = key
    return found


# For other domains ------------------------------------------------------------------------------------


async def companies_with_proposals(challenge_id: Any) -> list[str]:
    """Ids of the organisations that have a proposal (draft or further) on a challenge, withdrawn ones
    excepted: the bidders to tell about an amendment."""
    rows = await Proposal.select(Proposal.company).where(
        (Proposal.challenge == parse_uuid(challenge_id, "challenge")) & (Proposal.status != Proposal.Status.withdrawn)
    )
    return sorted({str(r["company"]) for r in rows})


async def mark_awarded(proposal_id: Any) -> None:
    """The contracts domain awarded a `selected` proposal. Refused (409) for any other status."""
    pid = parse_uuid(proposal_id, "proposal")
    async with transaction():
        done = await Proposal.update({Proposal.status: Proposal.Status.awarded, Proposal.updated_at: now()}).where(
            (Proposal.id == pid) & Proposal.status.is_in([Proposal.Status.selected, Proposal.Status.awarded])
        ).returning(Proposal.id)
        if done:
            await record(None, "proposal.awarded", "proposal", pid, after={"status": "awarded"})
    if not done:
        if not await Proposal.exists().where(Proposal.id == pid):
            raise NotFound("proposal")
        raise Conflict("Only a proposal selected at a stage decided by award can be awarded.")


async def open_stage_work(company_ids: list[str]) -> list[dict[str, Any]]:
    """For a company's home: its proposals whose current stage is still open, soonest deadline first, and whether
    that stage is still a draft or already submitted (resubmittable until the deadline): `id`, `title`, `stage`,
    `closes_at`, `submitted`."""
    if not company_ids:
        return []
    companies = [parse_uuid(c, "organisation") for c in company_ids]
    rows = await Proposal.raw(
        "SELECT p.id, c.title, p.current_stage AS stage, s.closes_at, ps.version AS version "
        "FROM proposal p JOIN challenge c ON c.id = p.challenge "
        "JOIN challenge_stage s ON s.challenge = p.challenge AND s.key = p.current_stage "
        "LEFT JOIN proposal_stage ps ON ps.proposal = p.id AND ps.stage = p.current_stage "
        f"WHERE p.company IN ({', '.join('{}' for _ in companies)}) AND p.status IN ('draft', 'advanced', 'submitted') "
        "AND s.opens_at <= {} AND s.closes_at > {} ORDER BY s.closes_at", *companies, now(), now())
    return [{"id": r["id"], "title": r["title"], "stage": r["stage"], "closes_at": from_db(r["closes_at"]),
             "submitted": bool(r["version"])} for r in rows]


async def pipeline(company_ids: list[str]) -> list[dict[str, Any]]:
    """For an incubator's home: per portfolio company, how many of its proposals stand at each status
    (`company`, `name`, `counts`: status -> number), companies by name."""
    if not company_ids:
        return []
    rows = await Proposal.select(Proposal.company.id.as_alias("company"), Proposal.company.name.as_alias("name"), Proposal.status,
                                 Count(Proposal.id, alias="count")).where(
        Proposal.company.is_in([parse_uuid(c, "organisation") for c in company_ids])).group_by(
        Proposal.company.id, Proposal.company.name, Proposal.status)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = out.setdefault(str(r["company"]), {"company": str(r["company"]), "name": r["name"], "counts": {}})
        entry["counts"][r["status"]] = r["count"]
    return sorted(out.values(), key=lambda e: e["name"])
