"""Experiments: started when a contract becomes active; the company delivers each milestone, the buyer
accepts (which creates its payout in the same transaction) or asks for changes with feedback; the
experiment ends with an outcome. Accepted milestones are paid whatever the outcome."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import BUYER_ROLES, Principal
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, invalid
from marketplace.core.money import money
from marketplace.experiments import notices, schemas, storage
from marketplace.experiments.tables import (
    Deliverable,
    DeliverableFile,
    Experiment,
    Milestone,
    MilestoneReview,
)
from marketplace.payments.payouts import create_payout, payout_out
from marketplace.payments.tables import Payout
from marketplace.transparency import audit

REVIEWER_ROLES = ("civil_servant", "procurement_officer")
MAX_REPORT = 20_000


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(what) from None


async def create_experiment(*, buyer_id: object, company_id: object, title: str, milestones: list[dict[str, Any]],
                            challenge_id: object = None, contract_id: object = None, hypothesis: str = "",
                            success_measures: str = "") -> str:
    """Create a running experiment with its milestones (each: title, amount_cents, currency, due_date,
    expected_deliverable, optionally award_milestone_id). Returns its id."""
    async with transaction():
        experiment = Experiment(contract_id=contract_id, challenge=challenge_id, buyer=buyer_id, company=company_id,
                                title=title[:200], hypothesis=hypothesis, success_measures=success_measures)
        await experiment.save()
        for position, m in enumerate(milestones, start=1):
            await Milestone.insert(Milestone(
                experiment=experiment.id, position=position, title=m["title"][:200], amount_cents=m["amount_cents"],
                currency=m.get("currency", "EUR"), due_date=m["due_date"], expected_deliverable=m.get("expected_deliverable", ""),
                award_milestone_id=m.get("award_milestone_id"),
            ))
        await audit.record(None, "experiment.started", "experiment", experiment.id, {"contract": str(contract_id) if contract_id else None,
                           "milestones": len(milestones)}, after={"status": "running"})
    return str(experiment.id)


async def start_experiment(contract_id: object) -> str:
    """The contracts domain calls this when a contract becomes active (both signed). Idempotent:
    a second call returns the experiment already started."""
    from marketplace.awards.tables import Award, AwardMilestone, Contract

    existing = await Experiment.select(Experiment.id).where(Experiment.contract_id == contract_id).first()
    if existing:
        await Contract.update({Contract.experiment_id: existing["id"]}).where(
            (Contract.id == contract_id) & Contract.experiment_id.is_null())
        return str(existing["id"])
    from marketplace.challenges.tables import Challenge

    contract = await Contract.select().where(Contract.id == contract_id).first()
    if contract is None:
        raise NotFound("contract")
    award = await Award.select().where(Award.id == contract["award"]).first()
    challenge = await Challenge.select(Challenge.title, Challenge.desired_outcomes).where(
        Challenge.id == contract["challenge"]).first()
    rows = await AwardMilestone.select().where(AwardMilestone.award == contract["award"]).order_by(AwardMilestone.position)
    experiment_id = await create_experiment(
        buyer_id=contract["buyer"], company_id=contract["company"], challenge_id=contract["challenge"],
        contract_id=contract["id"], title=(challenge or {}).get("title") or f"Contract {contract['number']}",
        hypothesis=(challenge or {}).get("desired_outcomes", ""),
        milestones=[{"title": r["title"], "amount_cents": r["amount_cents"], "currency": award["currency"] if award else "EUR",
                     "due_date": r["due_date"], "expected_deliverable": r["deliverable"], "award_milestone_id": r["id"]}
                    for r in rows],
    )
    await Contract.update({Contract.experiment_id: experiment_id}).where(Contract.id == contract["id"])
    return experiment_id


async def experiments_of(principal: Principal, limit: int, cursor: str | None) -> tuple[list[schemas.ExperimentSummary], str | None]:
    """The caller's experiments, newest first: as the buyer team, as the company, and (read only) those
    of the companies that accepted the caller's incubator in their portfolio. Paged in the database."""
    from marketplace.accounts.services import consenting_companies
    from marketplace.core.paging import check_limit, decode_cursor, encode_cursor

    check_limit(limit)
    buyers = {uuid.UUID(o) for o in principal.organisations(*BUYER_ROLES)}
    companies = {uuid.UUID(o) for o in principal.organisations("company_member")}
    portfolio = {uuid.UUID(c) for c in await consenting_companies(principal.organisations("incubator_member"))}
    if not (buyers or companies or portfolio):
        return [], None
    query = Experiment.select(Experiment.all_columns(), Experiment.buyer.name.as_alias("buyer_name"),
                              Experiment.company.name.as_alias("company_name")).where(
        Experiment.buyer.is_in(list(buyers) or [uuid.uuid4()]) | Experiment.company.is_in(list(companies | portfolio) or [uuid.uuid4()]))
    after = decode_cursor(cursor, 2)
    if after is not None:
        moment, ident = after
        query = query.where((Experiment.started_at < moment) | ((Experiment.started_at == moment) & (Experiment.id < ident)))
    rows = await query.order_by(Experiment.started_at, ascending=False).order_by(Experiment.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    ids = [r["id"] for r in page]
    milestones = await Milestone.select(Milestone.experiment, Milestone.status).where(Milestone.experiment.is_in(ids)) if ids else []
    paid = await Payout.select(Payout.experiment, Payout.amount_cents, Payout.currency).where(
        Payout.experiment.is_in(ids) & (Payout.status == Payout.Status.paid)) if ids else []
    items = []
    for r in page:
        mine = [m for m in milestones if m["experiment"] == r["id"]]
        role = "buyer" if r["buyer"] in buyers else "company" if r["company"] in companies else "incubator"
        items.append(schemas.ExperimentSummary(
            id=str(r["id"]), contract_id=str(r["contract_id"]) if r["contract_id"] else None,
            challenge_id=str(r["challenge"]) if r["challenge"] else None, title=r["title"],
            buyer=schemas.Party(id=str(r["buyer"]), name=r["buyer_name"]),
            company=schemas.Party(id=str(r["company"]), name=r["company_name"]),
            status=r["status"], outcome=r["outcome"], started_at=rfc3339(r["started_at"]) or "",
            finished_at=rfc3339(r["finished_at"]), milestones=len(mine),
            milestones_accepted=sum(1 for m in mine if m["status"] == "accepted"),
            paid=money(sum(p["amount_cents"] for p in paid if p["experiment"] == r["id"]), "EUR"), role=role))
    next_cursor = encode_cursor(page[-1]["started_at"], page[-1]["id"]) if len(rows) > limit else None
    return items, next_cursor


# --- who may see and do what ---------------------------------------------------------------------

def is_buyer(principal: Principal, experiment: dict[str, Any]) -> bool:
    return principal.has_role(*BUYER_ROLES, organisation_id=str(experiment["buyer"]))


def is_company(principal: Principal, experiment: dict[str, Any]) -> bool:
    return principal.has_role("company_member", organisation_id=str(experiment["company"]))


async def visible_experiment(principal: Principal, experiment_id: object) -> dict[str, Any]:
    """The experiment if `principal` is one of its parties (or a platform admin); otherwise 404."""
    row = await Experiment.select().where(Experiment.id == _uuid(str(experiment_id), "experiment")).first()
    if row is None or not (principal.is_platform_admin or is_buyer(principal, row) or is_company(principal, row)):
        raise NotFound("experiment")
    return row


async def _milestone_and_experiment(principal: Principal, milestone_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    milestone = await Milestone.select().where(Milestone.id == _uuid(milestone_id, "milestone")).first()
    if milestone is None:
        raise NotFound("milestone")
    try:
        experiment = await visible_experiment(principal, milestone["experiment"])
    except NotFound:
        raise NotFound("milestone") from None
    return milestone, experiment


# --- deliverables -------------------------------------------------------------------------------

async def submit_deliverable(principal: Principal, milestone_id: str, report: str,
                             files: list[tuple[str, bytes]]) -> schemas.MilestoneOut:
    """The company hands in a milestone's work: a report and checked files. Allowed while the milestone
    waits for work or for changes; stored files never overwrite earlier versions."""
    milestone, experiment = await _milestone_and_experiment(principal, milestone_id)
    if not is_company(principal, experiment):
        raise Forbidden("Only the company's members deliver its milestones.")
    report = (report or "").strip()
    errors = []
    if not report:
        errors.append(FieldError("report", "is required"))
    elif len(report) > MAX_REPORT:
        errors.append(FieldError("report", f"must be at most {MAX_REPORT} characters"))
    if errors:
        raise Invalid(errors)
    checked = storage.check(files)
    if experiment["status"] != Experiment.Status.running:
        raise Conflict("The experiment has ended; no more deliverables can be submitted.")
    if milestone["status"] not in (Milestone.Status.pending, Milestone.Status.changes_requested, Milestone.Status.submitted):
        raise Conflict("This milestone has been accepted; its deliverable can no longer change.")
    stored = [await storage.store(f.content) for f in checked]
    try:
        async with transaction():
            moved = await Milestone.update({Milestone.status: Milestone.Status.submitted, Milestone.submitted_at: now()}).where(
                (Milestone.id == milestone["id"]) & (Milestone.status != Milestone.Status.accepted)).returning(Milestone.id)
            if not moved:
                raise Conflict("This milestone has been accepted; its deliverable can no longer change.")
            version = await Deliverable.count().where(Deliverable.milestone == milestone["id"]) + 1
            deliverable = Deliverable(milestone=milestone["id"], version=version, report=report, submitted_by=principal.user_id)
            await deliverable.save()
            for f, name in zip(checked, stored, strict=True):
                await DeliverableFile.insert(DeliverableFile(
                    deliverable=deliverable.id, filename=f.filename, content_type=f.content_type, size=len(f.content),
                    sha256=f.sha256, storage_name=name))
            await audit.record(principal, "deliverable.submitted", "milestone", milestone["id"], {
                "experiment": str(experiment["id"]), "version": version,
                "files": [{"filename": f.filename, "sha256": f.sha256, "size": len(f.content)} for f in checked]})
            await notices.deliverable_submitted(experiment, milestone)
    except BaseException:
        for name in stored:
            await storage.remove(name)
        raise
    return await milestone_out(milestone["id"])


async def deliverable_file(principal: Principal, file_id: str) -> tuple[dict[str, Any], AsyncIterator[bytes]]:
    row = await DeliverableFile.select(*DeliverableFile.all_columns(), DeliverableFile.deliverable.milestone.as_alias("milestone")).where(
        DeliverableFile.id == _uuid(file_id, "file")).first()
    if row is None:
        raise NotFound("file")
    await _milestone_and_experiment(principal, str(row["milestone"]))
    return row, await storage.read(row["storage_name"])


# --- review -------------------------------------------------------------------------------------

async def review_milestone(principal: Principal, milestone_id: str, data: schemas.ReviewIn) -> schemas.MilestoneOut:
    """Accept (the payout is created in the same transaction, once) or ask for changes with feedback."""
    milestone, experiment = await _milestone_and_experiment(principal, milestone_id)
    if not principal.has_role(*REVIEWER_ROLES, organisation_id=str(experiment["buyer"])):
        raise Forbidden("Only the buyer's civil servants and procurement officers review milestones.")
    feedback = data.feedback.strip()
    if data.decision == "request_changes" and not feedback:
        raise invalid("feedback", "is required when asking for changes: say what to change")
    moment = now()
    async with transaction():
        target = Milestone.Status.accepted if data.decision == "accept" else Milestone.Status.changes_requested
        changes: dict[Any, Any] = {Milestone.status: target}
        if data.decision == "accept":
            changes.update({Milestone.accepted_at: moment, Milestone.accepted_by: principal.user_id})
        # The conditional update is the lock: of many concurrent reviews, one finds the milestone submitted.
        moved = await Milestone.update(changes).where(
            (Milestone.id == milestone["id"]) & (Milestone.status == Milestone.Status.submitted)).returning(*Milestone.all_columns())
        if not moved:
            current = await Milestone.select(Milestone.status).where(Milestone.id == milestone["id"]).first()
            if current and current["status"] == Milestone.Status.accepted:
                raise Conflict("This milestone is already accepted.", [FieldError("decision", "the milestone is already accepted")])
            raise Conflict("There is no submitted deliverable to review.", [FieldError("decision", "nothing is waiting for review")])
        latest = await Deliverable.select(Deliverable.id).where(Deliverable.milestone == milestone["id"]).order_by(
            Deliverable.version, ascending=False).first()
        await MilestoneReview.insert(MilestoneReview(
            milestone=milestone["id"], deliverable=latest["id"] if latest else None, decision=data.decision,
            feedback=feedback, reviewer=principal.user_id, reviewed_at=moment))
        await audit.record(principal, "milestone.accepted" if data.decision == "accept" else "milestone.changes_requested",
                           "milestone", milestone["id"], {"experiment": str(experiment["id"]), "deliverable": str(latest["id"]) if latest else None})
        if data.decision == "accept":
            payout = await create_payout(moved[0], experiment, moment)
            await audit.record(principal, "payout.created", "payout", payout["id"], {
                "milestone": str(milestone["id"]), "contract": str(experiment["contract_id"]) if experiment["contract_id"] else None,
                "amount_cents": payout["amount_cents"], "currency": payout["currency"], "due_by": rfc3339(payout["due_by"])})
        await notices.milestone_reviewed(experiment, milestone, data.decision, feedback)
    return await milestone_out(milestone["id"])


# --- outcome ------------------------------------------------------------------------------------

async def record_outcome(principal: Principal, experiment_id: str, data: schemas.OutcomeIn) -> schemas.ExperimentOut:
    """End the experiment with its result, learnings and follow-on. Accepted milestones are paid anyway."""
    experiment = await visible_experiment(principal, experiment_id)
    if not principal.has_role("civil_servant", organisation_id=str(experiment["buyer"])):
        raise Forbidden("Only the buyer's civil servants record an experiment's outcome.")
    async with transaction():
        moved = await Experiment.update({
            Experiment.status: Experiment.Status.finished, Experiment.outcome: data.result,
            Experiment.learnings: data.learnings.strip(), Experiment.follow_on: data.follow_on,
            Experiment.finished_at: now(), Experiment.decided_by: principal.user_id,
        }).where((Experiment.id == experiment["id"]) & (Experiment.status == Experiment.Status.running)).returning(Experiment.id)
        if not moved:
            raise Conflict("The experiment's outcome is already recorded.", [FieldError("result", "is already recorded")])
        await audit.record(principal, "experiment.finished", "experiment", experiment["id"],
                           {"outcome": data.result, "follow_on": data.follow_on})
    return await experiment_out(experiment["id"])


# --- reading ------------------------------------------------------------------------------------

def is_overdue(milestone: dict[str, Any], today: date | None = None) -> bool:
    today = today or now().date()
    return milestone["status"] != Milestone.Status.accepted and milestone["due_date"] < today


async def _milestones_out(milestone_rows: list[dict[str, Any]]) -> list[schemas.MilestoneOut]:
    ids = [m["id"] for m in milestone_rows]
    if not ids:
        return []
    deliverables = await Deliverable.select().where(Deliverable.milestone.is_in(ids)).order_by(Deliverable.version)
    files = await DeliverableFile.select().where(
        DeliverableFile.deliverable.is_in([d["id"] for d in deliverables] or [uuid.uuid4()]))
    reviews = await MilestoneReview.select().where(MilestoneReview.milestone.is_in(ids)).order_by(MilestoneReview.reviewed_at)
    payouts = {p["milestone"]: p for p in await Payout.select().where(Payout.milestone.is_in(ids))}
    moment = now()
    out = []
    for m in milestone_rows:
        out.append(schemas.MilestoneOut(
            id=str(m["id"]), position=m["position"], title=m["title"], amount=money(m["amount_cents"], m["currency"]),
            due_date=m["due_date"].isoformat(), expected_deliverable=m["expected_deliverable"], status=m["status"],
            overdue=is_overdue(m, moment.date()), submitted_at=rfc3339(m["submitted_at"]), accepted_at=rfc3339(m["accepted_at"]),
            deliverables=[schemas.DeliverableOut(
                id=str(d["id"]), version=d["version"], report=d["report"], submitted_at=rfc3339(d["submitted_at"]) or "",
                files=[schemas.FileOut(id=str(f["id"]), filename=f["filename"], content_type=f["content_type"], size=f["size"],
                                       sha256=f["sha256"], url=f"/api/v1/deliverable-files/{f['id']}")
                       for f in files if f["deliverable"] == d["id"]],
            ) for d in deliverables if d["milestone"] == m["id"]],
            reviews=[schemas.ReviewOut(decision=r["decision"], feedback=r["feedback"], reviewed_at=rfc3339(r["reviewed_at"]) or "")
                     for r in reviews if r["milestone"] == m["id"]],
            payout=payout_out(payouts[m["id"]], moment) if m["id"] in payouts else None,
        ))
    return out


async def milestone_out(milestone_id: object) -> schemas.MilestoneOut:
    row = await Milestone.select().where(Milestone.id == milestone_id).first()
    return (await _milestones_out([row]))[0]


async def experiment_out(experiment_id: object) -> schemas.ExperimentOut:
    e = await Experiment.select().where(Experiment.id == experiment_id).first()
    if e is None:
        raise NotFound("experiment")
    names = {o["id"]: o["name"] for o in await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.id.is_in([e["buyer"], e["company"]]))}
    milestones = await Milestone.select().where(Milestone.experiment == e["id"]).order_by(Milestone.position)
    return schemas.ExperimentOut(
        id=str(e["id"]), contract_id=str(e["contract_id"]) if e["contract_id"] else None,
        challenge_id=str(e["challenge"]) if e["challenge"] else None, title=e["title"],
        buyer=schemas.Party(id=str(e["buyer"]), name=names.get(e["buyer"], "")),
        company=schemas.Party(id=str(e["company"]), name=names.get(e["company"], "")),
        hypothesis=e["hypothesis"], success_measures=e["success_measures"], status=e["status"], outcome=e["outcome"],
        learnings=e["learnings"], follow_on=e["follow_on"], started_at=rfc3339(e["started_at"]) or "",
        finished_at=rfc3339(e["finished_at"]), milestones=await _milestones_out(milestones),
    )


async def experiment_results(challenge_id: object) -> list[dict[str, Any]]:
    """Public results of a challenge's experiments (transparency, open data): status, outcome,
    learnings, follow-on, and the amounts accepted and paid."""
    rows = await Experiment.select().where(Experiment.challenge == challenge_id).order_by(Experiment.started_at)
    out = []
    for e in rows:
        milestones = await Milestone.select(Milestone.id, Milestone.amount_cents, Milestone.status).where(Milestone.experiment == e["id"])
        paid = await Payout.select(Payout.amount_cents).where(
            (Payout.experiment == e["id"]) & (Payout.status == Payout.Status.paid))
        out.append({
            "experiment_id": str(e["id"]), "contract_id": str(e["contract_id"]) if e["contract_id"] else None,
            "status": e["status"], "outcome": e["outcome"], "learnings": e["learnings"], "follow_on": e["follow_on"],
            "started_at": rfc3339(e["started_at"]), "finished_at": rfc3339(e["finished_at"]),
            "milestones": len(milestones), "milestones_accepted": sum(m["status"] == "accepted" for m in milestones),
            "accepted_cents": sum(m["amount_cents"] for m in milestones if m["status"] == "accepted"),
            "paid_cents": sum(p["amount_cents"] for p in paid),
        })
    return out



_WAITING_COLUMNS = (Milestone.id, Milestone.title, Milestone.status, Milestone.due_date, Milestone.submitted_at, Milestone.amount_cents,
                    Milestone.currency, Milestone.experiment.as_alias("experiment"), Milestone.experiment.title.as_alias("experiment_title"))


async def milestones_to_review(buyer_ids: list[str]) -> list[dict[str, Any]]:
    """For the buyers' reviewers (home page): milestones of their running experiments delivered and not reviewed yet,
    oldest delivery first: `id`, `title`, `status`, `due_date`, `submitted_at`, `amount_cents`, `currency`,
    `experiment`, `experiment_title`."""
    if not buyer_ids:
        return []
    return await Milestone.select(*_WAITING_COLUMNS).where(
        (Milestone.experiment.status == Experiment.Status.running) & (Milestone.status == Milestone.Status.submitted)
        & Milestone.experiment.buyer.is_in([_uuid(b, "organisation") for b in buyer_ids])).order_by(Milestone.submitted_at)


async def milestones_to_deliver(company_ids: list[str]) -> list[dict[str, Any]]:
    """For a company (home page): milestones of its running experiments still to deliver, or to deliver again after a
    request for changes, earliest due first (the same keys as `milestones_to_review`)."""
    if not company_ids:
        return []
    return await Milestone.select(*_WAITING_COLUMNS).where(
        (Milestone.experiment.status == Experiment.Status.running)
        & Milestone.status.is_in([Milestone.Status.pending, Milestone.Status.changes_requested])
        & Milestone.experiment.company.is_in([_uuid(c, "organisation") for c in company_ids])).order_by(Milestone.due_date)
