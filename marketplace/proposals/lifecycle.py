"""Time-driven stage transitions (Prozorro's "chronograph"): from a challenge's stage rows, compute
which events are due; apply each with a conditional update, so that running it twice, after a
restart, or on several instances at once does each transition exactly once.

- an open stage whose `closes_at` passed moves to `evaluation` (unless questions asked before the
  Q&A deadline are still unanswered);
- a pending stage whose `opens_at` passed opens once the stage before it is decided.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import transaction
from marketplace.procedures import engine
from marketplace.settings import get_settings
from marketplace.transparency.audit import record

log = logging.getLogger("marketplace.proposals.lifecycle")

CLOSE_SUBMISSIONS = "close_submissions"
OPEN_STAGE = "open_stage"


@dataclass(frozen=True)
class Due:
    at: datetime
    action: str
    stage: str


def due_events(stages: list[dict[str, Any]]) -> list[Due]:
    """Every time-driven event a challenge is waiting for, earliest first (a pure function of its stages)."""
    ordered = sorted(stages, key=lambda s: s["position"])
    out: list[Due] = []
    for i, s in enumerate(ordered):
        if s["status"] == ChallengeStage.Status.open:
            out.append(Due(as_utc(s["closes_at"]), CLOSE_SUBMISSIONS, s["key"]))
        elif s["status"] == ChallengeStage.Status.pending and (i == 0 or ordered[i - 1]["status"] == ChallengeStage.Status.decided):
            out.append(Due(as_utc(s["opens_at"]), OPEN_STAGE, s["key"]))
    return sorted(out, key=lambda d: d.at)


async def stages_of(challenge_id: Any) -> list[dict[str, Any]]:
    return await ChallengeStage.select().where(ChallengeStage.challenge == challenge_id).order_by(ChallengeStage.position)


async def next_due(challenge_id: Any) -> Due | None:
    """The next event this challenge waits for (shown on timelines)."""
    events = due_events(await stages_of(challenge_id))
    return events[0] if events else None


async def blocking_questions(challenge_id: Any) -> int:
    """Questions asked before the Q&A deadline and still unanswered (the challenges domain counts them)."""
    try:
        from marketplace.challenges.services import unanswered_questions_blocking_close
    except ImportError:
        return 0
    return int(await unanswered_questions_blocking_close(challenge_id))


async def _close_submissions(challenge: dict[str, Any], stage: dict[str, Any]) -> bool:
    if await blocking_questions(challenge["id"]) > 0:
        log.info("stage %s of %s stays open: unanswered questions", stage["key"], challenge["id"])
        return False
    async with transaction():
        moved = await ChallengeStage.update({ChallengeStage.status: ChallengeStage.Status.evaluation}).where(
            (ChallengeStage.id == stage["id"]) & (ChallengeStage.status == ChallengeStage.Status.open)
        ).returning(ChallengeStage.id)
        if moved:  # the clock did it, whoever's request noticed first
            await record("system", "stage.submissions_closed", "challenge", challenge["id"], {"stage": stage["key"]},
                         before={"status": "open"}, after={"status": "evaluation"})
            template = engine.get(challenge["procedure_template"], challenge["procedure_version"])
            if template.stage(stage["key"]).decision == "continue":
                await _continue_stage(challenge, template, stage)
    return bool(moved)


async def _continue_stage(challenge: dict[str, Any], template: engine.ProcedureTemplate, stage: dict[str, Any]) -> None:
    """A stage decided by `continue` (a step of a design sprint): at its deadline every team that submitted it
    moves on to the next stage and the stage is decided at once; no decision or feedback is asked. A team that
    did not submit stays behind at the closed stage."""
    from marketplace.proposals.tables import Proposal, ProposalStage

    following = template.next_stage(stage["key"])
    moment = now()
    await ChallengeStage.update({ChallengeStage.status: ChallengeStage.Status.decided, ChallengeStage.decided_at: moment}).where(
        ChallengeStage.id == stage["id"])
    await record("system", "stage.decided", "challenge", challenge["id"], {"stage": stage["key"], "decision": "continue"},
                 before={"status": "evaluation"}, after={"status": "decided"})
    submitted = await ProposalStage.select(ProposalStage.proposal, ProposalStage.proposal.status.as_alias("status")).where(
        (ProposalStage.stage == stage["key"]) & (ProposalStage.version > 0) & (ProposalStage.proposal.challenge == challenge["id"])
        & (ProposalStage.proposal.current_stage == stage["key"]) & (ProposalStage.proposal.status == Proposal.Status.submitted))
    if following is None or not submitted:
        return
    ids = [r["proposal"] for r in submitted]
    await Proposal.update({Proposal.status: Proposal.Status.advanced, Proposal.current_stage: following.key,
                           Proposal.updated_at: moment}).where(Proposal.id.is_in(ids))
    for pid in ids:
        await record("system", "proposal.continued", "proposal", pid, {"stage": stage["key"], "next": following.key},
                     before={"status": "submitted", "stage": stage["key"]}, after={"status": "advanced", "stage": following.key})


def paid_stage_before(template: engine.ProcedureTemplate, stage_key: str) -> engine.StageSpec | None:
    """The `paid` stage just before this one, if any: this stage opens only to its contractors."""
    position = template.stage_keys.index(stage_key)
    before = template.stages[position - 1] if position > 0 else None
    return before if before is not None and before.paid else None


async def _paid_contracts_done(challenge_id: Any, stage_key: str) -> bool:
    """The experiments domain knows when a paid stage's contracts are done (asked, never imported at load)."""
    from marketplace.experiments.phases import stage_contracts_done

    return await stage_contracts_done(challenge_id, stage_key)


async def _open_stage(challenge: dict[str, Any], stage: dict[str, Any], moment: datetime) -> bool:
    template = engine.get(challenge["procedure_template"], challenge["procedure_version"])
    spec = template.stage(stage["key"])
    paid = paid_stage_before(template, spec.key)
    if paid is not None and not await _paid_contracts_done(challenge["id"], paid.key):
        log.info("stage %s of %s waits for the contracts of the paid stage %s", spec.key, challenge["id"], paid.key)
        return False
    min_open = template.min_open(get_settings().min_stage_open_days)
    closes_at = as_utc(stage["closes_at"])
    # A stage opened late (decisions took longer than planned) still gets its minimum open time.
    if closes_at <= moment or closes_at < moment + min_open:
        closes_at = moment + max(min_open, spec.duration)
    async with transaction():
        moved = await ChallengeStage.update(
            {ChallengeStage.status: ChallengeStage.Status.open, ChallengeStage.closes_at: closes_at}
        ).where((ChallengeStage.id == stage["id"]) & (ChallengeStage.status == ChallengeStage.Status.pending)).returning(ChallengeStage.id)
        if not moved:
            return False
        await Challenge.update({Challenge.current_stage: stage["key"], Challenge.updated_at: moment}).where(Challenge.id == challenge["id"])
        await record("system", "stage.opened", "challenge", challenge["id"], {"stage": stage["key"], "closes_at": rfc3339(closes_at)},
                     before={"status": "pending"}, after={"status": "open"})
        from marketplace.proposals.notices import tell_stage_opened

        await tell_stage_opened(challenge, stage["key"], closes_at)
    return True


async def sync_challenge(challenge_id: Any, moment: datetime | None = None, *, challenge: dict | None = None,
                         stages: list[dict] | None = None) -> int:
    """Apply every event due at `moment` (default: now). Idempotent; returns how many transitions it made.
    `challenge` and `stages`: rows the caller has just read (not read again when nothing is due)."""
    moment = moment or now()
    cid = challenge_id if isinstance(challenge_id, uuid.UUID) else uuid.UUID(str(challenge_id))
    challenge = challenge or await Challenge.select().where(Challenge.id == cid).first()
    if challenge is None or challenge["status"] != Challenge.Status.published:
        return 0
    done = 0
    known = stages
    for _ in range(20):  # each round makes one transition; a challenge has a handful of stages
        by_key = {s["key"]: s for s in (known if known is not None else await stages_of(cid))}
        known = None  # after a transition, read them again
        due = [d for d in due_events(list(by_key.values())) if d.at <= moment]
        progressed = False
        for event in due:
            stage = by_key[event.stage]
            if event.action == CLOSE_SUBMISSIONS:
                progressed = await _close_submissions(challenge, stage)
            else:
                progressed = await _open_stage(challenge, stage, moment)
            if progressed:
                done += 1
                break
        if not progressed:
            break
    return done


async def advance_stage_deadlines() -> int:
    """The worker's job: every published challenge with an event due now moves forward."""
    moment = now()
    # Two small queries rather than one join: the due stages through their partial indexes (challenge_stage_open_due,
    # challenge_stage_pending_due), then which of their challenges are published, by primary key. Joined, PostgreSQL
    # misjudged how many pending stages are due and read all challenges on every round.
    rows = await ChallengeStage.select(ChallengeStage.challenge).where(
        ((ChallengeStage.status == ChallengeStage.Status.open) & (ChallengeStage.closes_at <= moment))
        | ((ChallengeStage.status == ChallengeStage.Status.pending) & (ChallengeStage.opens_at <= moment))
    )
    candidates = list({r["challenge"] for r in rows})
    published = await Challenge.select(Challenge.id).where(
        Challenge.id.is_in(candidates) & (Challenge.status == Challenge.Status.published)) if candidates else []
    total = 0
    for cid in sorted({r["id"] for r in published}, key=str):
        try:
            total += await sync_challenge(cid, moment)
        except Exception:  # noqa: BLE001 - one challenge's problem must not stop the others
            log.exception("could not move challenge %s forward", cid)
    return total
