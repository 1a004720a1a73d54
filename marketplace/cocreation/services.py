"""The readiness self-check: answer, score, roadmap for the weak dimensions, anonymous comparison."""

from __future__ import annotations

import json
import uuid
from statistics import median
from typing import Any

from marketplace.accounts.services import parse_id
from marketplace.cocreation import questionnaires, schemas
from marketplace.cocreation.tables import SelfCheck
from marketplace.core.auth import Principal
from marketplace.core.clock import rfc3339
from marketplace.core.errors import FieldError, Invalid, NotFound, invalid
from marketplace.core.i18n import current_locale
from marketplace.transparency import audit

SELF_CHECK_ROLES = ("civil_servant", "procurement_officer", "buyer_admin")
COMPARE_FROM = 5  # public bodies needed before any comparison is shown (anonymity)


def questionnaire_out(q: questionnaires.Questionnaire, locale: str | None = None) -> schemas.QuestionnaireOut:
    lang = locale or current_locale.get()
    return schemas.QuestionnaireOut(
        id=q.id, version=q.version, title=q.title[lang], intro=q.intro[lang], scale=list(q.scale[lang]),
        subject_label=q.subject[lang] if q.subject else None,
        dimensions=[schemas.DimensionOut(key=d.key, name=d.name[lang]) for d in q.dimensions],
        questions=[schemas.QuestionOut(key=x.key, dimension=x.dimension, text=x.text[lang]) for x in q.questions])


def check_access(principal: Principal, organisation_id: Any) -> uuid.UUID:
    """The organisation's staff (not its evaluators) and platform admins; anyone else: 404."""
    org = parse_id(organisation_id, "organisation")
    if not (principal.is_platform_admin or principal.has_role(*SELF_CHECK_ROLES, organisation_id=str(org))):
        raise NotFound("organisation")
    return org


def validate(q: questionnaires.Questionnaire | None, data: schemas.SelfCheckIn) -> questionnaires.Questionnaire:
    if q is None:
        raise invalid("questionnaire", "is not a questionnaire (see GET /api/v1/readiness/questionnaires)")
    keys = {x.key for x in q.questions}
    errors = [FieldError(f"answers.{k}", "is required") for k in sorted(keys - set(data.answers))]
    errors += [FieldError(f"answers.{k}", "is not a question of this questionnaire") for k in sorted(set(data.answers) - keys)]
    subject = data.subject.strip()
    if q.subject and not subject:
        errors.append(FieldError("subject", "is required"))
    if any(ord(c) < 32 for c in subject):
        errors.append(FieldError("subject", "must not contain control characters"))
    if errors:
        raise Invalid(errors)
    return q


async def answer(principal: Principal, organisation_id: Any, data: schemas.SelfCheckIn) -> schemas.SelfCheckOut:
    """Record a self-check (every one is kept: redoing it shows progress)."""
    org = check_access(principal, organisation_id)
    q = questionnaires.get(data.questionnaire)
    q = validate(q if q and q.audience == "public_body" else None, data)
    scores = questionnaires.score(q, data.answers)
    row = SelfCheck(organisation=org, questionnaire=q.id, version=q.version, subject=data.subject.strip(),
                    answers=json.dumps(data.answers, sort_keys=True), scores=json.dumps(scores, sort_keys=True),
                    total=questionnaires.total(scores), answered_by=uuid.UUID(principal.user_id))
    await row.save()
    await audit.record(principal.user_id, "self_check.answered", "organisation", str(org),
                       {"questionnaire": q.id, "version": q.version, "total": row.total})
    return await self_check_out(row.to_dict())  # the row as saved: its defaults (id, answered_at) are set in Python


async def comparison(q: questionnaires.Questionnaire) -> schemas.Comparison | None:
    """The median of every public body's latest self-check, when at least COMPARE_FROM answered."""
    rows = await SelfCheck.select(SelfCheck.organisation, SelfCheck.scores, SelfCheck.total, SelfCheck.answered_at).where(
        (SelfCheck.questionnaire == q.id) & (SelfCheck.subject == "")).order_by(SelfCheck.answered_at)
    latest: dict[Any, dict[str, Any]] = {}
    for r in rows:
        latest[r["organisation"]] = r
    if len(latest) < COMPARE_FROM:
        return None
    scores = [json.loads(r["scores"]) for r in latest.values()]
    return schemas.Comparison(
        organisations=len(latest), median_total=int(median(r["total"] for r in latest.values()) + 0.5),
        median={d.key: int(median(s.get(d.key, 0) for s in scores) + 0.5) for d in q.dimensions})


async def self_check_out(row: dict[str, Any], locale: str | None = None,
                         compared: schemas.Comparison | None | bool = False) -> schemas.SelfCheckOut:
    lang = locale or current_locale.get()
    q = questionnaires.get(row["questionnaire"])
    scores = json.loads(row["scores"])
    dimensions, roadmap = [], []
    for d in q.dimensions if q else ():
        weak = scores.get(d.key, 0) < q.weak_below
        dimensions.append(schemas.DimensionScore(key=d.key, name=d.name[lang], score=scores.get(d.key, 0), weak=weak))
        if weak:
            roadmap += [schemas.RoadmapStep(dimension=d.key, dimension_name=d.name[lang], text=s.text[lang], link=s.link)
                        for s in d.steps]
    if compared is False:
        compared = await comparison(q) if q and not q.subject else None
    return schemas.SelfCheckOut(
        id=str(row["id"]), organisation_id=str(row["organisation"]), questionnaire=row["questionnaire"],
        version=row["version"], subject=row["subject"], answered_at=rfc3339(row["answered_at"]) or "", total=row["total"],
        dimensions=dimensions, roadmap=roadmap, comparison=compared or None, answers=json.loads(row["answers"]))


async def history(principal: Principal, organisation_id: Any, questionnaire: str | None = None) -> list[dict[str, Any]]:
    """Every self-check of the organisation, newest first."""
    org = check_access(principal, organisation_id)
    query = SelfCheck.select().where(SelfCheck.organisation == org)
    if questionnaire:
        query = query.where(SelfCheck.questionnaire == questionnaire)
    return await query.order_by(SelfCheck.answered_at, ascending=False)


async def get_self_check(principal: Principal, check_id: Any) -> dict[str, Any]:
    row = await SelfCheck.select().where(SelfCheck.id == parse_id(check_id, "self-check")).first()
    if row is None:
        raise NotFound("self-check")
    try:
        check_access(principal, row["organisation"])
    except NotFound:
        raise NotFound("self-check") from None
    return row
