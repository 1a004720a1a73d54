"""Public metrics: how well each buyer keeps its promises, computed from the data itself.

Per buyer and platform-wide: median and worst days to answer a question, to decide a stage after its
deadline, to sign a contract after the award, to pay a milestone after its acceptance; the share of
payouts made within the 30-day payment term; the statutory late-payment interest and compensation
owed on late payments; proposals per challenge; the shares of SMEs and of first-time bidders among
bidders; the share of finished experiments that led to follow-on work.

Only what is public is counted: submissions are counted once their stage's deadline has passed
(never before, so nothing about a sealed stage leaks), and no proposal content is read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from statistics import mean, median
from typing import Any

from marketplace.accounts.tables import Organisation
from marketplace.awards.tables import Award, Contract
from marketplace.challenges.tables import Challenge, ChallengeStage, Question
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.experiments.tables import Experiment
from marketplace.payments import clock
from marketplace.payments.tables import Payout
from marketplace.proposals.tables import Proposal, ProposalStage
from marketplace.settings import get_settings

SME_SIZES = {"micro", "small", "medium"}
FOLLOW_ON = {"scale_up", "new_challenge"}
PUBLIC_STATUSES = ["published", "awarded", "closed", "archived"]

# The figures in the order the page, the API and the CSV show them.
DURATIONS = ("days_to_answer", "days_to_decide", "days_to_sign", "days_to_pay")
SHARES = ("payouts_within_30_days", "sme_share", "first_time_bidder_share", "follow_on_share")


def days_between(start: datetime | None, end: datetime | None) -> float | None:
    """Days from `start` to `end`, to one decimal (never negative); None when either is missing."""
    if start is None or end is None:
        return None
    return round(max(0.0, (as_utc(end) - as_utc(start)).total_seconds() / 86400), 1)


def duration(values: Iterable[float | None]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    return {"count": len(present), "median": round(median(present), 1) if present else None,
            "worst": max(present) if present else None}


def share(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": round(count / of, 3) if of else None}


class _Facts:
    """Every row the figures need, read once, grouped by buyer."""

    def __init__(self) -> None:
        self.answers: dict[Any, list[float | None]] = defaultdict(list)
        self.decisions: dict[Any, list[float | None]] = defaultdict(list)
        self.signatures: dict[Any, list[float | None]] = defaultdict(list)
        self.payments: dict[Any, list[float | None]] = defaultdict(list)
        self.on_time: dict[Any, list[bool]] = defaultdict(list)
        self.interest: dict[Any, int] = defaultdict(int)
        self.proposals: dict[Any, list[int]] = defaultdict(list)
        self.bids: dict[Any, list[tuple[Any, bool, bool]]] = defaultdict(list)  # (company, sme, first time)
        self.follow_on: dict[Any, list[bool]] = defaultdict(list)
        self.reviews: dict[Any, list[int]] = defaultdict(list)  # co-creation review totals (0-100), both parties


async def _challenges() -> dict[Any, Any]:
    rows = await Challenge.select(Challenge.id, Challenge.buyer).where(
        Challenge.status.is_in(PUBLIC_STATUSES) & Challenge.published_at.is_not_null())
    return {r["id"]: r["buyer"] for r in rows}


async def _collect(moment: datetime) -> tuple[_Facts, dict[Any, Any]]:
    facts = _Facts()
    for e in await Experiment.select(Experiment.buyer, Experiment.follow_on).where(
            Experiment.status == Experiment.Status.finished):
        facts.follow_on[e["buyer"]].append(e["follow_on"] in FOLLOW_ON)
    await _reviews(facts)
    buyer_of = await _challenges()
    if not buyer_of:
        return facts, buyer_of
    ids = list(buyer_of)

    for q in await Question.select(Question.challenge, Question.asked_at, Question.answered_at).where(
            Question.challenge.is_in(ids) & Question.answered_at.is_not_null()):
        facts.answers[buyer_of[q["challenge"]]].append(days_between(q["asked_at"], q["answered_at"]))

    stages = await ChallengeStage.select(ChallengeStage.challenge, ChallengeStage.key, ChallengeStage.position,
                                         ChallengeStage.closes_at, ChallengeStage.decided_at).where(
        ChallengeStage.challenge.is_in(ids))
    first_closed: dict[Any, tuple[str, datetime]] = {}
    for s in sorted(stages, key=lambda s: s["position"]):
        if s["decided_at"] is not None:
            facts.decisions[buyer_of[s["challenge"]]].append(days_between(s["closes_at"], s["decided_at"]))
        if s["challenge"] not in first_closed and as_utc(s["closes_at"]) <= moment:
            first_closed[s["challenge"]] = (s["key"], s["closes_at"])

    awards = {a["id"]: a for a in await Award.select(Award.id, Award.awarded_at).where(Award.challenge.is_in(ids))}
    for c in await Contract.select(Contract.award, Contract.buyer, Contract.activated_at).where(
            Contract.challenge.is_in(ids) & Contract.activated_at.is_not_null()):
        award = awards.get(c["award"])
        if award:
            facts.signatures[c["buyer"]].append(days_between(award["awarded_at"], c["activated_at"]))

    rate = get_settings().ecb_reference_rate_bp
    for p in await Payout.select(Payout.buyer, Payout.amount_cents, Payout.accepted_at, Payout.due_by,
                                 Payout.paid_at, Payout.status):
        if p["paid_at"] is not None:
            facts.payments[p["buyer"]].append(days_between(p["accepted_at"], p["paid_at"]))
            late = clock.days_late(p["due_by"], p["paid_at"], moment)
            facts.on_time[p["buyer"]].append(late == 0)
            facts.interest[p["buyer"]] += clock.late_interest_cents(p["amount_cents"], late, rate) + clock.compensation_cents(late)
        elif as_utc(p["due_by"]) < moment:  # overdue and still unpaid: not within the term
            facts.on_time[p["buyer"]].append(False)

    await _bidders(facts, buyer_of, first_closed)

    return facts, buyer_of


async def _reviews(facts: _Facts) -> None:
    """Co-creation reviews count once both parties of an experiment answered (they are public then)."""
    from marketplace.cocreation.tables import ExperimentReview

    rows = await ExperimentReview.select(ExperimentReview.experiment, ExperimentReview.party, ExperimentReview.total)
    parties: dict[Any, dict[str, int]] = defaultdict(dict)
    for r in rows:
        parties[r["experiment"]][r["party"]] = r["total"]
    complete = {e: p for e, p in parties.items() if set(p) == {"buyer", "company"}}
    if not complete:
        return
    for e in await Experiment.select(Experiment.id, Experiment.buyer).where(Experiment.id.is_in(list(complete))):
        facts.reviews[e["buyer"]].extend(complete[e["id"]].values())


async def _bidders(facts: _Facts, buyer_of: dict[Any, Any], first_closed: dict[Any, tuple[str, datetime]]) -> None:
    """Submitted proposals of challenges whose first stage has closed: counts, SMEs and first-time bidders."""
    if not first_closed:
        return
    proposals = await Proposal.select(Proposal.id, Proposal.challenge, Proposal.company,
                                      Proposal.company.size.as_alias("size")).where(
        Proposal.challenge.is_in(list(first_closed)))
    if not proposals:
        for challenge in first_closed:
            facts.proposals[buyer_of[challenge]].append(0)
        return
    by_id = {p["id"]: p for p in proposals}
    submitted: dict[Any, datetime] = {}  # proposal -> first submission at its first stage
    for s in await ProposalStage.select(ProposalStage.proposal, ProposalStage.stage, ProposalStage.submitted_at).where(
            ProposalStage.proposal.is_in(list(by_id)) & ProposalStage.submitted_at.is_not_null()):
        p = by_id[s["proposal"]]
        if s["stage"] == first_closed[p["challenge"]][0]:
            submitted[p["id"]] = as_utc(s["submitted_at"])
    per_challenge: dict[Any, int] = defaultdict(int)
    seen: set[Any] = set()
    # In the order the bids were made, so "first time" means no earlier bid on any challenge.
    for pid, _at in sorted(submitted.items(), key=lambda kv: (kv[1], str(kv[0]))):
        p = by_id[pid]
        per_challenge[p["challenge"]] += 1
        facts.bids[buyer_of[p["challenge"]]].append((p["company"], p["size"] in SME_SIZES, p["company"] not in seen))
        seen.add(p["company"])
    for challenge in first_closed:
        facts.proposals[buyer_of[challenge]].append(per_challenge.get(challenge, 0))


def _figures(facts: _Facts, buyers: list[Any] | None) -> dict[str, Any]:
    """The figures over the given buyers (None: every buyer)."""
    def pick(table: dict[Any, list[Any]]) -> list[Any]:
        keys = table.keys() if buyers is None else buyers
        return [v for k in keys for v in table.get(k, [])]

    proposals = pick(facts.proposals)
    bids = pick(facts.bids)
    on_time = pick(facts.on_time)
    follow_on = pick(facts.follow_on)
    interest = sum(v for k, v in facts.interest.items() if buyers is None or k in buyers)
    return {
        "days_to_answer": duration(pick(facts.answers)),
        "days_to_decide": duration(pick(facts.decisions)),
        "days_to_sign": duration(pick(facts.signatures)),
        "days_to_pay": duration(pick(facts.payments)),
        "payouts_within_30_days": share(sum(on_time), len(on_time)),
        "late_payment_interest": {"amount": interest, "currency": "EUR"},
        "proposals_per_challenge": {"challenges": len(proposals),
                                    "median": round(median(proposals), 1) if proposals else None,
                                    "mean": round(mean(proposals), 1) if proposals else None},
        "sme_share": share(sum(1 for _c, sme, _f in bids if sme), len(bids)),
        "first_time_bidder_share": share(sum(1 for _c, _s, first in bids if first), len(bids)),
        "follow_on_share": share(sum(follow_on), len(follow_on)),
        "co_creation_review": {"reviews": len(reviews := pick(facts.reviews)),
                               "mean": round(mean(reviews), 1) if reviews else None},
    }


async def public_metrics(moment: datetime | None = None) -> dict[str, Any]:
    """Platform-wide figures and one entry per buyer that has published a challenge (sorted by name)."""
    moment = moment or now()
    facts, buyer_of = await _collect(moment)
    buyer_ids = list(set(buyer_of.values()))
    names = {o["id"]: o["name"] for o in await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.id.is_in(buyer_ids))} if buyer_ids else {}
    buyers = sorted(buyer_ids, key=lambda b: (names.get(b, "").lower(), str(b)))
    return {
        "generated_at": rfc3339(moment),
        "platform": _figures(facts, None),
        "buyers": [{"buyer": {"id": str(b), "name": names.get(b, "")}, **_figures(facts, [b])} for b in buyers],
    }


CSV_COLUMNS = ["scope", "buyer_id", "buyer_name",
               *[f"{d}_{k}" for d in DURATIONS for k in ("median", "worst", "count")],
               "payouts_within_30_days_share", "payouts_within_30_days_count", "payouts_within_30_days_of",
               "late_payment_interest_cents", "late_payment_interest_currency",
               "proposals_per_challenge_median", "proposals_per_challenge_mean", "challenges_counted",
               "sme_share", "first_time_bidder_share", "follow_on_share", "follow_on_of",
               "co_creation_review_mean", "co_creation_reviews"]


def _row(scope: str, buyer: dict[str, str] | None, f: dict[str, Any]) -> list[Any]:
    row: list[Any] = [scope, buyer["id"] if buyer else "", buyer["name"] if buyer else ""]
    for d in DURATIONS:
        row += [f[d]["median"], f[d]["worst"], f[d]["count"]]
    p30 = f["payouts_within_30_days"]
    row += [p30["share"], p30["count"], p30["of"], f["late_payment_interest"]["amount"], f["late_payment_interest"]["currency"],
            f["proposals_per_challenge"]["median"], f["proposals_per_challenge"]["mean"], f["proposals_per_challenge"]["challenges"],
            f["sme_share"]["share"], f["first_time_bidder_share"]["share"], f["follow_on_share"]["share"], f["follow_on_share"]["of"],
            f["co_creation_review"]["mean"], f["co_creation_review"]["reviews"]]
    return ["" if v is None else v for v in row]


def metrics_csv(metrics: dict[str, Any]) -> str:
    """The same figures as CSV: one line for the platform, one per buyer."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_row("platform", None, metrics["platform"]))
    for b in metrics["buyers"]:
        writer.writerow(_row("buyer", b["buyer"], b))
    return out.getvalue()
