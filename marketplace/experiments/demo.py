"""Experiments demo data: an active experiment (112 centres × TriageVoice) with a paid milestone and
one awaiting review; a finished, failed experiment (City of Ghent × GeoFlow) paid for its accepted
work; and one (City of Ghent × Civic Data Works) whose accepted milestone waits for the company's
payout set-up, late, so the payment clock shows interest."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marketplace.core.clock import now
from marketplace.experiments.services import create_experiment
from marketplace.experiments.tables import Deliverable, Experiment, Milestone, MilestoneReview
from marketplace.payments.demo import DEMO_REQUEST
from marketplace.payments.payouts import create_payout
from marketplace.payments.sandbox import objects
from marketplace.payments.tables import PaymentAccount, Payout

DAY = timedelta(days=1)


async def _experiment(ctx: Any, title: str, buyer: str, company: str, started_days_ago: int, milestones: list[tuple]) -> dict | None:
    """`milestones`: (title, amount in cents, due after n days, hypothesis, success measures, deliverable);
    the first milestone's hypothesis and measures are the experiment's."""
    if await Experiment.exists().where(Experiment.title == title):
        return None
    start = now() - started_days_ago * DAY
    experiment_id = await create_experiment(
        buyer_id=ctx.orgs[buyer].id, company_id=ctx.orgs[company].id, title=title,
        hypothesis=milestones[0][3], success_measures=milestones[0][4],
        milestones=[{"title": title, "amount_cents": amount, "due_date": (start + due * DAY).date(), "expected_deliverable": deliverable}
                    for title, amount, due, _hypothesis, _measures, deliverable in milestones],
    )
    await Experiment.update({Experiment.started_at: start}).where(Experiment.id == experiment_id)
    return await Experiment.select().where(Experiment.id == experiment_id).first()


async def _deliver(milestone: dict, user: Any, report: str, days_ago: int) -> None:
    await Deliverable.insert(Deliverable(milestone=milestone["id"], report=report, submitted_by=user.id,
                                         submitted_at=now() - days_ago * DAY))
    await Milestone.update({Milestone.status: Milestone.Status.submitted, Milestone.submitted_at: now() - days_ago * DAY}).where(
        Milestone.id == milestone["id"])


async def _accept(experiment: dict, milestone: dict, reviewer: Any, feedback: str, days_ago: int, paid_after_days: int | None) -> None:
    accepted_at = now() - days_ago * DAY
    await Milestone.update({Milestone.status: Milestone.Status.accepted, Milestone.accepted_at: accepted_at,
                            Milestone.accepted_by: reviewer.id}).where(Milestone.id == milestone["id"])
    await MilestoneReview.insert(MilestoneReview(milestone=milestone["id"], decision="accept", feedback=feedback,
                                                 reviewer=reviewer.id, reviewed_at=accepted_at))
    await create_payout(milestone, experiment, accepted_at)
    if paid_after_days is None:
        return
    payout = await Payout.select().where(Payout.milestone == milestone["id"]).first()
    account = await PaymentAccount.select().where(PaymentAccount.organisation == experiment["company"]).first()
    transfer = await objects.create_transfer({
        "amount": str(payout["amount_cents"]), "currency": "eur", "destination": account["stripe_account_id"],
        "transfer_group": payout["transfer_group"], "metadata": {"payout_id": str(payout["id"]), "milestone_id": str(milestone["id"])},
    }, DEMO_REQUEST)
    await Payout.update({Payout.status: Payout.Status.paid, Payout.stripe_transfer_id: transfer["id"],
                         Payout.paid_at: accepted_at + paid_after_days * DAY, Payout.attempts: 1}).where(Payout.id == payout["id"])


async def _milestones(experiment: dict) -> list[dict]:
    return await Milestone.select().where(Milestone.experiment == experiment["id"]).order_by(Milestone.position)


async def load(ctx: Any) -> None:
    u = ctx.users
    active = await _experiment(ctx, "Voice triage of non-urgent 112 calls", "fps_interior", "triage_ai", 40, [
        ("Call-flow analysis and data protection impact assessment", 900_000, 20,
         "Voice triage can route a third of non-urgent calls without an operator", "share of calls routed; caller satisfaction",
         "A report on one month of anonymised call flows and a DPIA"),
        ("Two-week pilot in the Leuven centre", 1_300_000, 45, "", "", "Pilot results: calls handled, routing accuracy, operator feedback"),
        ("Final report and recommendation", 600_000, 70, "", "", "Final report with a go/no-go recommendation"),
    ])
    if active:
        first, second, _third = await _milestones(active)
        await _deliver(first, u["lena"], "One month of anonymised call flows analysed; DPIA approved by the DPO.", 22)
        await _accept(active, first, u["marc"], "Thorough analysis. The DPIA is approved.", 20, paid_after_days=4)
        await _deliver(second, u["lena"], "The pilot ran 14 days: 2,310 calls, 34% routed without an operator, 91% correctly.", 2)

    failed = await _experiment(ctx, "Sensor-guided parking in the city centre", "ghent", "geo_mobility", 120, [
        ("Sensor installation on 40 places", 800_000, 30, "Live occupancy data cuts search traffic by 20%",
         "minutes spent searching; traffic counts", "40 sensors installed and calibrated, with an installation report"),
        ("Three-month measurement", 1_200_000, 100, "", "", "Traffic and occupancy measurements over three months"),
    ])
    if failed:
        first, second = await _milestones(failed)
        await _deliver(first, u["thomas"], "40 sensors installed on Korenmarkt and Vrijdagmarkt; calibration report attached.", 95)
        await _accept(failed, first, u["pieter"], "Installation as planned.", 92, paid_after_days=12)
        await _deliver(second, u["thomas"], "Three months measured: search traffic fell 6%, not 20%.", 20)
        await _accept(failed, second, u["pieter"], "The measurement was done well, even though the target was not met.", 18,
                      paid_after_days=9)
        await Experiment.update({
            Experiment.status: Experiment.Status.finished, Experiment.outcome: Experiment.Outcome.failed,
            Experiment.learnings: "Sensors worked, but drivers kept searching: without signage at the entrances to the centre, "
                                  "live occupancy data alone did not change behaviour. Both milestones were accepted and paid.",
            Experiment.follow_on: Experiment.FollowOn.new_challenge, Experiment.finished_at: now() - 15 * DAY,
            Experiment.decided_by: u["pieter"].id,
        }).where(Experiment.id == failed["id"])

    waiting = await _experiment(ctx, "Open data portal for neighbourhood budgets", "ghent", "civic_data", 60, [
        ("Data model and first neighbourhood", 450_000, 20, "Residents use budget data when it is shown per street",
         "visits; questions to the council", "The data model and the portal for one neighbourhood"),
        ("All neighbourhoods", 650_000, 75, "", "", "The portal for every neighbourhood"),
    ])
    if waiting:
        first, _second = await _milestones(waiting)
        await _deliver(first, u["eva"], "Data model published; Brugse Poort is live.", 37)
        # Accepted 35 days ago and still unpaid: the company never finished its payout set-up.
        await _accept(waiting, first, u["pieter"], "Clear and usable.", 35, paid_after_days=None)
        await Payout.update({Payout.status: Payout.Status.waiting,
                             Payout.status_reason: "Waiting for the company to finish setting up payouts."}).where(
            Payout.milestone == first["id"])
