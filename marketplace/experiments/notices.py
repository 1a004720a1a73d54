"""Telling the parties: a deliverable to review, a review's decision, a payout made, and overdue
milestones (flagged once to both sides). Each person gets an e-mail and an in-app notification in
their own language, in the transaction of the change they report."""

from __future__ import annotations

from typing import Any

from marketplace.accounts.tables import Membership
from marketplace.core.clock import now
from marketplace.core.i18n import LOCALES
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.mail.services import enqueue_mail, notify
from marketplace.transparency.audit import record

REVIEWERS = ("civil_servant", "procurement_officer")


async def members(org_id: Any, *roles: str) -> list[dict[str, Any]]:
    rows = await Membership.select(Membership.user.id, Membership.user.email, Membership.user.name, Membership.user.locale).where(
        (Membership.organisation == org_id) & Membership.role.is_in(list(roles)) & (Membership.user.active == True))  # noqa: E712
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        people.setdefault(str(r["user.id"]), {"id": r["user.id"], "email": r["user.email"], "name": r["user.name"],
                                              "locale": r["user.locale"] if r["user.locale"] in LOCALES else "en"})
    return list(people.values())


async def tell(people: list[dict[str, Any]], template: str, title: str, link: str, **context: Any) -> None:
    for person in people:
        await enqueue_mail(person["email"], template, locale=person["locale"], name=person["name"], link=link, **context)
        await notify(person["id"], template, title, link=link, **{k: v for k, v in context.items() if isinstance(v, str)})


async def deliverable_submitted(experiment: dict[str, Any], milestone: dict[str, Any]) -> None:
    await tell(await members(experiment["buyer"], *REVIEWERS), "milestone_submitted", "A deliverable waits for your review: %(milestone)s",
               f"/experiments/{experiment['id']}#milestone-{milestone['id']}", milestone=milestone["title"], experiment=experiment["title"])


async def milestone_reviewed(experiment: dict[str, Any], milestone: dict[str, Any], decision: str, feedback: str) -> None:
    title = "Milestone accepted: %(milestone)s" if decision == "accept" else "Changes requested: %(milestone)s"
    await tell(await members(experiment["company"], "company_member"), "milestone_reviewed", title,
               f"/experiments/{experiment['id']}#milestone-{milestone['id']}", milestone=milestone["title"],
               experiment=experiment["title"], accepted=decision == "accept", feedback=feedback)


async def flag_overdue_milestones(limit: int = 100) -> int:
    """The worker's job: each milestone past its due date without acceptance is flagged once to both sides."""
    today = now().date()
    due = await Milestone.select(*Milestone.all_columns()).where(
        (Milestone.due_date < today) & (Milestone.status != Milestone.Status.accepted) & Milestone.overdue_flagged_at.is_null()
        & (Milestone.experiment.status == Experiment.Status.running)).limit(limit)
    flagged = 0
    for milestone in due:
        claimed = await Milestone.update({Milestone.overdue_flagged_at: now()}).where(
            (Milestone.id == milestone["id"]) & Milestone.overdue_flagged_at.is_null()).returning(Milestone.id)
        if not claimed:
            continue  # another worker took it
        await record("system", "milestone.overdue", "milestone", milestone["id"], {"due_date": milestone["due_date"]})
        experiment = await Experiment.select().where(Experiment.id == milestone["experiment"]).first()
        people = await members(experiment["company"], "company_member") + await members(experiment["buyer"], *REVIEWERS)
        await tell(people, "milestone_overdue", "Milestone overdue: %(milestone)s",
                   f"/experiments/{experiment['id']}#milestone-{milestone['id']}", milestone=milestone["title"],
                   experiment=experiment["title"], due_date=milestone["due_date"],
                   waiting_for_review=milestone["status"] == Milestone.Status.submitted)
        flagged += 1
    return flagged


