"""Around an experiment: the co-creation quality review of both parties (Co-Master) and the right to
challenge a rule (LabX), decided by a named authority with written reasons. Both appear on the public
result card once they are final."""

from __future__ import annotations

import json
import uuid
from typing import Any

from marketplace.cocreation import questionnaires, schemas
from marketplace.cocreation.tables import ExperimentReview, RuleChallenge
from marketplace.core.auth import BUYER_ROLES, Principal
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from marketplace.core.i18n import current_locale
from marketplace.core.i18n import gettext as _
from marketplace.core.security import hash_token, new_token
from marketplace.experiments.services import visible_experiment
from marketplace.experiments.tables import Experiment
from marketplace.mail.services import enqueue_mail, notify
from marketplace.transparency import audit

REVIEW = "review"
PARTIES = ("buyer", "company")


def party_of(principal: Principal, experiment: dict[str, Any]) -> str | None:
    if principal.has_role(*BUYER_ROLES, organisation_id=str(experiment["buyer"])):
        return "buyer"
    if principal.has_role("company_member", organisation_id=str(experiment["company"])):
        return "company"
    return None


async def _party_experiment(principal: Principal, experiment_id: Any) -> tuple[dict[str, Any], str]:
    experiment = await visible_experiment(principal, experiment_id)
    party = party_of(principal, experiment)
    if party is None:
        raise Forbidden("Only the buyer team and the company of this experiment can do this.")
    return experiment, party


# --- the co-creation review --------------------------------------------------------------------

def review_out(row: dict[str, Any], locale: str | None = None) -> schemas.ReviewOut:
    lang = locale or current_locale.get()
    q = questionnaires.get(REVIEW)
    scores = json.loads(row["scores"])
    return schemas.ReviewOut(
        id=str(row["id"]), experiment_id=str(row["experiment"]), party=row["party"], organisation=row["organisation_name"],
        total=row["total"], answers=json.loads(row["answers"]), comment=row["comment"],
        reviewed_at=rfc3339(row["reviewed_at"]) or "",
        dimensions=[schemas.DimensionScore(key=d.key, name=d.name[lang], score=scores.get(d.key, 0),
                                           weak=scores.get(d.key, 0) < q.weak_below) for d in q.dimensions])


async def _reviews(experiment_id: Any) -> list[dict[str, Any]]:
    return await ExperimentReview.select(ExperimentReview.all_columns(),
                                         ExperimentReview.organisation.name.as_alias("organisation_name")).where(
        ExperimentReview.experiment == experiment_id).order_by(ExperimentReview.reviewed_at)


async def submit_review(principal: Principal, experiment_id: Any, data: schemas.ReviewIn) -> schemas.ReviewOut:
    """One review per party, once the experiment has ended; the other side is told."""
    experiment, party = await _party_experiment(principal, experiment_id)
    if experiment["status"] != Experiment.Status.finished:
        raise Conflict("The review is for after the experiment: record its outcome first.")
    q = questionnaires.get(REVIEW)
    keys = {x.key for x in q.questions}
    errors = [FieldError(f"answers.{k}", "is required") for k in sorted(keys - set(data.answers))]
    errors += [FieldError(f"answers.{k}", "is not a question of this review") for k in sorted(set(data.answers) - keys)]
    if errors:
        raise Invalid(errors)
    scores = questionnaires.score(q, data.answers)
    org = experiment["buyer"] if party == "buyer" else experiment["company"]
    try:
        async with transaction():
            row = ExperimentReview(experiment=experiment["id"], party=party, organisation=org,
                                   answers=json.dumps(data.answers, sort_keys=True), scores=json.dumps(scores, sort_keys=True),
                                   total=questionnaires.total(scores), comment=data.comment.strip(),
                                   reviewed_by=uuid.UUID(principal.user_id))
            await row.save()
            await audit.record(principal.user_id, "experiment.reviewed", "experiment", str(experiment["id"]),
                               {"party": party, "total": row.total})
            other = "company" if party == "buyer" else "buyer"
            await _tell_party(experiment, other, "experiment_review", f"/experiments/{experiment['id']}#co-creation-review")
    except Exception as exc:
        if is_integrity_error(exc):
            raise Conflict("Your side has already reviewed this experiment.",
                           [FieldError("answers", "were already given by your side")]) from None
        raise
    return review_out(next(r for r in await _reviews(experiment["id"]) if r["party"] == party))


async def reviews_for(principal: Principal, experiment_id: Any) -> schemas.ReviewPage:
    """Your side's review; the other side's only once both answered."""
    experiment, party = await _party_experiment(principal, experiment_id)
    rows = await _reviews(experiment["id"])
    both = {r["party"] for r in rows} == set(PARTIES)
    visible = rows if both else [r for r in rows if r["party"] == party]
    missing = next((p for p in PARTIES if p not in {r["party"] for r in rows}), None)
    return schemas.ReviewPage(items=[review_out(r) for r in visible], next_cursor=None, waiting_for=missing)


async def public_reviews(experiment_id: Any) -> list[schemas.ReviewOut]:
    """Both reviews, for the public result card; nothing until both sides answered."""
    rows = await _reviews(experiment_id)
    return [review_out(r) for r in rows] if {r["party"] for r in rows} == set(PARTIES) else []


# --- the right to challenge a rule ---------------------------------------------------------------

def rule_out(row: dict[str, Any]) -> schemas.RuleChallengeOut:
    return schemas.RuleChallengeOut(
        id=str(row["id"]), experiment_id=str(row["experiment"]), party=row["party"], rule=row["rule"], reason=row["reason"],
        safeguards=row["safeguards"], duration_days=row["duration_days"], authority_name=row["authority_name"],
        status=row["status"], decision_reasons=row["decision_reasons"], decided_by=row["decided_by"],
        decided_at=rfc3339(row["decided_at"]), outcome_note=row["outcome_note"], requested_at=rfc3339(row["requested_at"]) or "")


async def request_rule_challenge(principal: Principal, experiment_id: Any,
                                 data: schemas.RuleChallengeIn) -> tuple[schemas.RuleChallengeOut, str]:
    """Either party asks a named authority to set a rule aside for the experiment. The authority gets an
    e-mail with a single-use decision link; returns the request and that link's token (for the API caller)."""
    experiment, party = await _party_experiment(principal, experiment_id)
    if experiment["status"] != Experiment.Status.running:
        raise Conflict("A rule can be challenged while the experiment runs.")
    texts = {"rule": data.rule, "reason": data.reason, "safeguards": data.safeguards, "authority.name": data.authority.name}
    errors = [FieldError(k, "must not contain control characters") for k, v in texts.items()
              if any(ord(c) < 32 and c not in "\n\r\t" for c in v)]
    errors += [FieldError(k, "is required") for k, v in texts.items() if not v.strip()]
    if errors:
        raise Invalid(errors)
    token = new_token()
    async with transaction():
        row = RuleChallenge(experiment=experiment["id"], party=party, requested_by=uuid.UUID(principal.user_id),
                            rule=data.rule.strip(), reason=data.reason.strip(), safeguards=data.safeguards.strip(),
                            duration_days=data.duration_days, authority_name=data.authority.name.strip(),
                            authority_email=data.authority.email.strip(), token_hash=hash_token(token))
        await row.save()
        await audit.record(principal.user_id, "rule_challenge.requested", "experiment", str(experiment["id"]),
                           {"request": str(row.id), "rule": row.rule, "authority": row.authority_name})
        await enqueue_mail(row.authority_email, "rule_challenge_requested", locale=current_locale.get(),
                           authority=row.authority_name, title=experiment["title"], rule=row.rule, reason=row.reason,
                           safeguards=row.safeguards, days=row.duration_days,
                           link=f"/right-to-challenge/{row.id}/decide?token={token}")
        other = "company" if party == "buyer" else "buyer"
        await _tell_party(experiment, other, "rule_challenge", f"/experiments/{experiment['id']}#right-to-challenge")
    saved = await RuleChallenge.select().where(RuleChallenge.id == row.id).first()
    return rule_out(saved), token


async def _by_token(request_id: Any, token: str) -> dict[str, Any]:
    from marketplace.accounts.services import parse_id

    row = await RuleChallenge.select().where(RuleChallenge.id == parse_id(request_id, "request")).first()
    if row is None or row["token_hash"] != hash_token(token or ""):
        raise NotFound("request")
    return row


async def request_for_authority(request_id: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    row = await _by_token(request_id, token)
    experiment = await Experiment.select(Experiment.title, Experiment.buyer.name.as_alias("buyer_name"),
                                         Experiment.company.name.as_alias("company_name")).where(
        Experiment.id == row["experiment"]).first()
    return row, experiment


async def decide_rule_challenge(request_id: Any, data: schemas.RuleDecisionIn) -> schemas.RuleChallengeOut:
    """The named authority decides once, with written reasons (the link's token proves who it is)."""
    row = await _by_token(request_id, data.token)
    if row["status"] != RuleChallenge.Status.requested:
        raise Conflict("This request has already been decided.")
    for field_name, value in (("reasons", data.reasons), ("decided_by", data.decided_by)):
        if not value.strip():
            raise Invalid([FieldError(field_name, "is required")])
    async with transaction():
        done = await RuleChallenge.update({
            RuleChallenge.status: data.decision, RuleChallenge.decision_reasons: data.reasons.strip(),
            RuleChallenge.decided_by: data.decided_by.strip(), RuleChallenge.decided_at: now(),
        }).where((RuleChallenge.id == row["id"]) & (RuleChallenge.status == RuleChallenge.Status.requested)).returning(
            RuleChallenge.id)
        if not done:
            raise Conflict("This request has already been decided.")
        await audit.record("authority:" + data.decided_by.strip()[:60], "rule_challenge.decided", "experiment",
                           str(row["experiment"]), {"request": str(row["id"]), "decision": data.decision})
        experiment = await Experiment.select().where(Experiment.id == row["experiment"]).first()
        for party in PARTIES:
            await _tell_party(experiment, party, "rule_challenge_decided", f"/experiments/{experiment['id']}#right-to-challenge")
    return rule_out(await RuleChallenge.select().where(RuleChallenge.id == row["id"]).first())


async def record_rule_outcome(principal: Principal, request_id: Any, data: schemas.RuleOutcomeIn) -> schemas.RuleChallengeOut:
    """What came of a decided request, written by either party."""
    from marketplace.accounts.services import parse_id

    row = await RuleChallenge.select().where(RuleChallenge.id == parse_id(request_id, "request")).first()
    if row is None:
        raise NotFound("request")
    try:
        await _party_experiment(principal, row["experiment"])
    except NotFound:
        raise NotFound("request") from None
    if row["status"] == RuleChallenge.Status.requested:
        raise Conflict("The authority has not decided yet.")
    await RuleChallenge.update({RuleChallenge.outcome_note: data.note.strip()}).where(RuleChallenge.id == row["id"])
    await audit.record(principal.user_id, "rule_challenge.outcome", "experiment", str(row["experiment"]), {"request": str(row["id"])})
    return rule_out(await RuleChallenge.select().where(RuleChallenge.id == row["id"]).first())


async def rule_challenges(experiment_id: Any, decided_only: bool = False) -> list[schemas.RuleChallengeOut]:
    query = RuleChallenge.select().where(RuleChallenge.experiment == experiment_id)
    if decided_only:
        query = query.where(RuleChallenge.status != RuleChallenge.Status.requested)
    return [rule_out(r) for r in await query.order_by(RuleChallenge.requested_at)]


async def rule_challenges_for(principal: Principal, experiment_id: Any) -> list[schemas.RuleChallengeOut]:
    experiment, _party = await _party_experiment(principal, experiment_id)
    return await rule_challenges(experiment["id"])


# --- telling people ------------------------------------------------------------------------------

NOTICES = {  # marked for translation; each reader gets them in their own language
    "experiment_review": _("The other party reviewed how the co-creation went: answer too to see each other's review."),
    "rule_challenge": _("A request to set a rule aside for the experiment was sent to the authority."),
    "rule_challenge_decided": _("The authority decided on the request to set a rule aside for the experiment."),
}


async def _tell_party(experiment: dict[str, Any], party: str, kind: str, link: str) -> None:
    from marketplace.accounts.tables import Membership

    org = experiment["buyer"] if party == "buyer" else experiment["company"]
    roles = list(BUYER_ROLES) if party == "buyer" else ["company_member"]
    members = await Membership.select(Membership.user, Membership.user.locale.as_alias("locale")).where(
        (Membership.organisation == org) & Membership.role.is_in(roles))
    seen: set[Any] = set()
    for m in members:
        if m["user"] in seen:
            continue
        seen.add(m["user"])
        await notify(m["user"], kind, NOTICES[kind], experiment["title"], link)  # shown in the reader's language

