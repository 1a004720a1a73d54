"""What happens next for an awarded proposal, once the procedure is over: the contract, the experiment
and its milestones, then the payouts. The proposal's own timeline stops at the award; this continues it."""

from __future__ import annotations

from typing import Any

from marketplace.awards.tables import Award, Contract
from marketplace.core.clock import rfc3339
from marketplace.core.i18n import gettext as _
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.proposals.schemas import TimelineEntry


async def after_award(proposal_id: Any) -> TimelineEntry | None:
    """The next step of an awarded proposal, or None when nothing is left to do."""
    award = await Award.select(Award.id, Award.standstill_ends_at).where(
        (Award.proposal == proposal_id) & (Award.status != Award.Status.cancelled)).order_by(Award.awarded_at, ascending=False).first()
    if award is None:
        return None
    contract = await Contract.select(Contract.id, Contract.number, Contract.status).where(Contract.award == award["id"]).first()
    if contract is None or contract["status"] == Contract.Status.draft:
        return TimelineEntry(at=rfc3339(award["standstill_ends_at"]), kind="contract", done=False,
                             text=_("Awarded: the test contract is issued when the standstill period ends"))
    if contract["status"] == Contract.Status.issued:
        return TimelineEntry(at=None, kind="contract", done=False,
                             text=_("Sign test contract %(number)s: the experiment starts when both parties have signed.",
                                    number=contract["number"]))
    experiment = await Experiment.select(Experiment.id, Experiment.status).where(Experiment.contract_id == contract["id"]).first()
    if experiment is None or experiment["status"] == Experiment.Status.finished:
        return None
    open_milestones = await Milestone.select(Milestone.title, Milestone.due_date, Milestone.status).where(
        (Milestone.experiment == experiment["id"]) & (Milestone.status != Milestone.Status.accepted)).order_by(Milestone.due_date)
    if not open_milestones:
        return TimelineEntry(at=None, kind="experiment", done=False,
                             text=_("Every milestone is accepted and paid out; the buyer records the experiment's outcome."))
    first = open_milestones[0]
    if first["status"] == Milestone.Status.submitted:
        text = _("The buyer reviews the deliverable of “%(milestone)s”.", milestone=first["title"])
    else:
        text = _("Deliver “%(milestone)s” by its due date", milestone=first["title"])
    return TimelineEntry(at=first["due_date"].isoformat(), kind="milestone", done=False, text=text)
