"""Decisions and feedback: every submitted proposal of a stage gets `advance` or `reject` with written
feedback; the stage closes only when all have one, and then the companies are told."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.challenges.tables import ChallengeStage
from marketplace.core.auth import Principal
from marketplace.core.clock import from_db, now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, FieldError, NotFound, invalid
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.proposals import access, lifecycle, notices, schemas
from marketplace.proposals.services import (
    _working_copies,
    get_challenge,
    parse_uuid,
    render_proposal,
    stage_rows,
    template_of,
    visible_stage_keys,
)
from marketplace.proposals.tables import Decision, Proposal, ProposalStage
from marketplace.proposals.timeline import next_step
from marketplace.transparency.audit import record


def _is_deciding_civil_servant(principal: Principal, challenge: dict[str, Any]) -> bool:
    return principal.has_role("civil_servant", organisation_id=str(challenge["buyer"]))


def _stage_in_evaluation(stage: dict[str, Any] | None) -> None:
    if stage is None:
        raise invalid("stage", "is not a stage of this challenge")
    if stage["status"] in (ChallengeStage.Status.pending, ChallengeStage.Status.open):
        raise Conflict(_("This stage is not in evaluation yet: submissions are open until %(at)s.", at=rfc3339(stage["closes_at"])),
                       [FieldError("stage", "is not in evaluation")])
    if stage["status"] == ChallengeStage.Status.decided:
        raise Conflict(_("This stage is closed: its decisions are final."), [FieldError("stage", "is closed")])


async def decide(principal: Principal, proposal_id: Any, data: schemas.DecisionIn) -> schemas.ProposalOut:
    """Advance or reject a proposal at a stage in evaluation, with written feedback (required).
    It can be changed until the stage closes; the company is told at the close."""
    proposal = await Proposal.select().where(Proposal.id == parse_uuid(proposal_id, "proposal")).first()
    if proposal is None:
        raise NotFound("proposal")
    challenge = await get_challenge(proposal["challenge"])
    if not _is_deciding_civil_servant(principal, challenge):
        raise NotFound("proposal")
    await lifecycle.sync_challenge(challenge["id"])
    template = template_of(challenge)
    if data.stage not in template.stage_keys:
        raise invalid("stage", f"is not a stage of this challenge ({', '.join(template.stage_keys)})")
    stages = await stage_rows(challenge["id"])
    _stage_in_evaluation(stages.get(data.stage))
    copy = (await _working_copies(proposal["id"])).get(data.stage)
    if copy is None or copy["version"] == 0:
        raise NotFound("proposal")  # nothing was submitted at this stage: nothing to see or decide
    if proposal["status"] == Proposal.Status.withdrawn:
        raise Conflict(_("This proposal was withdrawn."))
    if proposal["current_stage"] != data.stage:
        raise Conflict(_("This proposal is no longer at this stage."), [FieldError("stage", "is not the proposal's current stage")])
    feedback = data.feedback.strip()
    if not feedback:
        raise invalid("feedback", "is required: every decision carries written feedback for the company")
    spec = template.stage(data.stage)
    async with transaction():
        cap = engine.advance_cap(spec)  # shortlist and award: up to max_selected; pass_fail: no cap
        if data.outcome == "advance" and cap:
            others = await Decision.count().where(
                (Decision.stage == data.stage) & (Decision.outcome == "advance") & (Decision.proposal != proposal["id"])
                & (Decision.proposal.challenge == challenge["id"]))
            if others >= cap:
                raise Conflict(_("At most %(n)s proposals may pass this stage.", n=cap),
                               [FieldError("outcome", f"at most {cap} proposals may advance ({spec.decision})")])
        existing = await Decision.select(Decision.id, Decision.outcome).where(
            (Decision.proposal == proposal["id"]) & (Decision.stage == data.stage)).first()
        values = {Decision.outcome: data.outcome, Decision.feedback: feedback, Decision.decided_by: uuid.UUID(principal.user_id),
                  Decision.decided_at: now()}
        if existing:
            await Decision.update(values).where(Decision.id == existing["id"])
        else:
            await Decision.insert(Decision(proposal=proposal["id"], stage=data.stage, outcome=data.outcome, feedback=feedback,
                                           decided_by=uuid.UUID(principal.user_id), decided_at=now()))
        await record(principal, "decision.made", "proposal", proposal["id"], {"stage": data.stage},
                     before={"outcome": existing["outcome"] if existing else None}, after={"outcome": data.outcome})
    viewer = access.Viewer(access.BUYER)
    copies = await _working_copies(proposal["id"])
    keys = visible_stage_keys(template, viewer, copies, stages, now())
    return await render_proposal(proposal, challenge, viewer, keys)


async def undecided(challenge_id: Any, stage_key: str) -> list[str]:
    """Proposals submitted at this stage that still lack a decision with feedback."""
    copies = await ProposalStage.select(ProposalStage.proposal).where(
        (ProposalStage.stage == stage_key) & (ProposalStage.version > 0) & (ProposalStage.proposal.challenge == challenge_id)
        & (ProposalStage.proposal.status != Proposal.Status.withdrawn) & (ProposalStage.proposal.current_stage == stage_key))
    decided = {str(d["proposal"]) for d in await Decision.select(Decision.proposal).where(
        (Decision.stage == stage_key) & (Decision.proposal.challenge == challenge_id) & (Decision.feedback != ""))}
    return sorted(str(c["proposal"]) for c in copies if str(c["proposal"]) not in decided)


async def close_stage(principal: Principal, challenge_id: Any, stage_key: str) -> schemas.StageCloseOut:
    """End a stage's decisions: refused (409) while a proposal lacks its decision with feedback. Then every
    company is told by e-mail and in the app, advanced proposals move to the next stage, and the next
    stage opens when its date has come."""
    challenge = await get_challenge(challenge_id)
    if not _is_deciding_civil_servant(principal, challenge):
        raise NotFound("challenge")
    await lifecycle.sync_challenge(challenge["id"])
    template = template_of(challenge)
    if stage_key not in template.stage_keys:
        raise NotFound("stage")
    stages = await stage_rows(challenge["id"])
    _stage_in_evaluation(stages[stage_key])
    missing = await undecided(challenge["id"], stage_key)
    if missing:
        raise Conflict(_("%(n)s proposal(s) still lack a decision with feedback.", n=len(missing)),
                       [FieldError(f"proposals.{pid}", "has no decision with feedback") for pid in missing])
    spec, following = template.stage(stage_key), template.next_stage(stage_key)
    moment = now()
    counts = {"advance": 0, "reject": 0}
    async with transaction():
        closed = await ChallengeStage.update({ChallengeStage.status: ChallengeStage.Status.decided, ChallengeStage.decided_at: moment}).where(
            (ChallengeStage.id == stages[stage_key]["id"]) & (ChallengeStage.status == ChallengeStage.Status.evaluation)
        ).returning(ChallengeStage.id)
        if not closed:
            raise Conflict(_("This stage is closed: its decisions are final."))
        await record(principal, "stage.decided", "challenge", challenge["id"], {"stage": stage_key},
                     before={"status": "evaluation"}, after={"status": "decided"})
        decisions = await Decision.select(Decision.all_columns(), Decision.proposal.status.as_alias("proposal_status")).where(
            (Decision.stage == stage_key) & (Decision.proposal.challenge == challenge["id"])
            & (Decision.proposal.status != Proposal.Status.withdrawn))
        for d in decisions:
            counts[d["outcome"]] += 1
            if d["outcome"] == "advance":
                status = Proposal.Status.selected if spec.decision == "award" else Proposal.Status.advanced
                updates = {Proposal.status: status, Proposal.updated_at: moment}
                if following is not None:
                    updates[Proposal.current_stage] = following.key
            else:
                updates = {Proposal.status: Proposal.Status.rejected, Proposal.updated_at: moment}
            await Proposal.update(updates).where(Proposal.id == d["proposal"])
            await Decision.update({Decision.notified_at: moment}).where(Decision.id == d["id"])
            await record(principal, "proposal.decided", "proposal", d["proposal"], {"stage": stage_key, "outcome": d["outcome"]},
                         before={"status": d["proposal_status"]}, after={"status": updates[Proposal.status]})
            proposal = await Proposal.select().where(Proposal.id == d["proposal"]).first()
            upcoming = next_step(proposal, template, await _working_copies(proposal["id"]), await stage_rows(challenge["id"]), moment)
            await notices.tell_decision(proposal, challenge, spec.name, d["outcome"], d["feedback"], upcoming.text if upcoming else "")
    await lifecycle.sync_challenge(challenge["id"])
    return schemas.StageCloseOut(challenge_id=str(challenge["id"]), stage=stage_key, status="decided", advanced=counts["advance"],
                                 rejected=counts["reject"], next_stage=following.key if following else None)


async def awaiting_decision(buyer_ids: list[str]) -> list[dict[str, Any]]:
    """For the buyer team's home: per challenge of these public bodies and stage whose deadline has passed and that
    is not decided yet, its submitted proposals (`submitted`) and how many still lack a decision with feedback
    (`count`, what `undecided` counts for one stage; 0: the stage is ready to close), earliest deadline first:
    `id`, `title`, `procedure_template`, `procedure_version`, `stage`, `closes_at`, `submitted`, `count`."""
    if not buyer_ids:
        return []
    bodies = [parse_uuid(b, "organisation") for b in buyer_ids]
    rows = await Proposal.raw(
        "SELECT c.id, c.title, c.procedure_template, c.procedure_version, s.key AS stage, s.closes_at, COUNT(*) AS submitted, "
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM decision d WHERE d.proposal = p.id AND d.stage = ps.stage AND d.feedback != '') "
        "THEN 0 ELSE 1 END) AS count "
        "FROM proposal_stage ps JOIN proposal p ON p.id = ps.proposal JOIN challenge c ON c.id = p.challenge "
        "JOIN challenge_stage s ON s.challenge = c.id AND s.key = ps.stage "
        f"WHERE c.buyer IN ({', '.join('{}' for _ in bodies)}) AND c.status = 'published' AND ps.version > 0 "
        "AND p.status != 'withdrawn' AND p.current_stage = ps.stage AND s.closes_at <= {} AND s.status != 'decided' "
        "GROUP BY c.id, c.title, c.procedure_template, c.procedure_version, s.key, s.closes_at ORDER BY s.closes_at", *bodies, now())
    return [{**r, "count": int(r["count"]), "closes_at": from_db(r["closes_at"])} for r in rows]
