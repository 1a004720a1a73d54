"""Paid intermediate stages (a template's `paid = true`, e.g. SBRI-style feasibility contracts): the
stage's selected proposals receive contracts through the usual award, standstill, contract and
experiment, and the next stage waits for those contracts and opens only to their holders."""

from __future__ import annotations

from typing import Any

from marketplace.awards.tables import Award, Contract
from marketplace.experiments.tables import Experiment, Milestone


async def contractors(challenge_id: Any, stage_key: str) -> set[str]:
    """Ids of the proposals holding a contract of this stage (an award not cancelled)."""
    rows = await Award.select(Award.proposal).where(
        (Award.challenge == challenge_id) & (Award.stage == stage_key) & (Award.status != Award.Status.cancelled))
    return {str(r["proposal"]) for r in rows}


async def stage_contracts_done(challenge_id: Any, stage_key: str) -> bool:
    """Whether a paid stage's contracts are done, so the next stage may open: there is at least one,
    each is signed (active) with its experiment, and every milestone of every one is accepted (each
    accepted milestone's payout is created with the acceptance and paid by the payment clock)."""
    awards = await Award.select(Award.id, Award.status).where(
        (Award.challenge == challenge_id) & (Award.stage == stage_key) & (Award.status != Award.Status.cancelled))
    if not awards or any(a["status"] != Award.Status.contracted for a in awards):
        return False
    contracts = await Contract.select(Contract.id, Contract.status).where(Contract.award.is_in([a["id"] for a in awards]))
    if len(contracts) != len(awards) or any(c["status"] != Contract.Status.active for c in contracts):
        return False
    experiments = await Experiment.select(Experiment.id).where(Experiment.contract_id.is_in([c["id"] for c in contracts]))
    if len(experiments) != len(contracts):
        return False
    milestones = await Milestone.select(Milestone.status).where(Milestone.experiment.is_in([e["id"] for e in experiments]))
    return bool(milestones) and all(m["status"] == Milestone.Status.accepted for m in milestones)
