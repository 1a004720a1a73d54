"""Public outcomes and OCDS 1.1 open data, built only from what is public: the published challenge,
its stages' dates, aggregate counts (questions, proposals, decisions), awards, contracts, experiment
results and payments. Sealed proposal content and the names of unsuccessful bidders never appear."""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from marketplace.awards.tables import Award, Contract
from marketplace.challenges.tables import Challenge, ChallengeStage, Question
from marketplace.core.clock import as_utc, rfc3339
from marketplace.experiments.services import experiment_results
from marketplace.payments.metrics import payment_metrics
from marketplace.proposals.tables import Decision, Proposal, ProposalStage
from marketplace.transparency import ocds

FINISHED = ["awarded", "closed", "archived"]
PUBLIC = ["published", *FINISHED]


def ocid(challenge_id: Any) -> str:
    return ocds.ocid(challenge_id)


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((as_utc(end) - as_utc(start)).total_seconds() / 86400, 1)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 1) if present else None


async def _counts(challenge_id: Any) -> dict[str, Any]:
    """Aggregate counts only: how many asked, answered, proposed, advanced and were rejected."""
    questions = await Question.select(Question.asked_at, Question.answered_at).where(Question.challenge == challenge_id)
    proposals = await Proposal.select(Proposal.id).where(Proposal.challenge == challenge_id)
    ids = [p["id"] for p in proposals]
    submitted = 0
    if ids:
        rows = await ProposalStage.select(ProposalStage.proposal).where(
            ProposalStage.proposal.is_in(ids) & ProposalStage.submitted_at.is_not_null())
        submitted = len({r["proposal"] for r in rows})
    decisions = await Decision.select(Decision.stage, Decision.outcome).where(Decision.proposal.is_in(ids)) if ids else []
    by_stage: dict[str, dict[str, int]] = {}
    for d in decisions:
        stage = by_stage.setdefault(d["stage"], {"advance": 0, "reject": 0})
        stage[d["outcome"]] = stage.get(d["outcome"], 0) + 1
    return {
        "questions": len(questions), "questions_answered": sum(1 for q in questions if q["answered_at"] is not None),
        "proposals": submitted, "decisions": by_stage,
        "days_to_answer": _median([_days(q["asked_at"], q["answered_at"]) for q in questions]),
    }


async def _awards(challenge_id: Any) -> list[dict[str, Any]]:
    awards = await Award.select(Award.id, Award.company, Award.company.name.as_alias("company_name"), Award.amount_cents,
                                Award.currency, Award.status, Award.awarded_at, Award.standstill_ends_at,
                                Award.standstill_reason).where(
        Award.challenge == challenge_id).order_by(Award.awarded_at)
    contracts = {c["award"]: c for c in await Contract.select().where(Contract.challenge == challenge_id)}
    out = []
    for a in awards:
        c = contracts.get(a["id"])
        out.append({
            "award_id": str(a["id"]), "company_id": str(a["company"]), "company": a["company_name"],
            "amount": {"amount": a["amount_cents"], "currency": a["currency"]}, "status": a["status"],
            "awarded_at": rfc3339(a["awarded_at"]), "standstill_ends_at": None if a["standstill_reason"] else rfc3339(a["standstill_ends_at"]),
            "contract": None if c is None else {
                "contract_id": str(c["id"]), "number": c["number"], "status": c["status"],
                "issued_at": rfc3339(c["issued_at"]), "signed_at": rfc3339(c["activated_at"]),
            },
        })
    return out


async def outcomes() -> list[dict[str, Any]]:
    """Every closed or awarded challenge: counts, decisions, awards, experiment results and how many
    days it took to answer questions, decide each stage and pay the accepted milestones."""
    challenges = await Challenge.select(Challenge.id, Challenge.title, Challenge.summary, Challenge.status,
                                        Challenge.buyer, Challenge.buyer.name.as_alias("buyer_name"), Challenge.published_at,
                                        Challenge.closed_at, Challenge.budget_cap_cents, Challenge.currency,
                                        Challenge.procedure_template).where(
        Challenge.status.is_in(FINISHED) & Challenge.published_at.is_not_null()).order_by(Challenge.closed_at, ascending=False)
    out = []
    for ch in challenges:
        stages = await ChallengeStage.select(ChallengeStage.key, ChallengeStage.closes_at, ChallengeStage.decided_at).where(
            ChallengeStage.challenge == ch["id"]).order_by(ChallengeStage.position)
        experiments = await experiment_results(ch["id"])
        payments = await payment_metrics(challenge_experiments=[e["experiment_id"] for e in experiments])
        counts = await _counts(ch["id"])
        out.append({
            "challenge_id": str(ch["id"]), "ocid": ocid(ch["id"]), "title": ch["title"], "summary": ch["summary"],
            "buyer": {"id": str(ch["buyer"]), "name": ch["buyer_name"]}, "status": ch["status"],
            "procedure": ch["procedure_template"],
            "published_at": rfc3339(ch["published_at"]), "closed_at": rfc3339(ch["closed_at"]),
            "budget_cap": {"amount": ch["budget_cap_cents"], "currency": ch["currency"]},
            "counts": {k: counts[k] for k in ("questions", "questions_answered", "proposals")},
            "decisions": counts["decisions"],
            "awards": await _awards(ch["id"]),
            "experiments": experiments,
            "days_to_answer": counts["days_to_answer"],
            "days_to_decide": _median([_days(s["closes_at"], s["decided_at"]) for s in stages]),
            "days_to_pay": payments["median_days_to_pay"],
            "payments": payments,
        })
    return out
