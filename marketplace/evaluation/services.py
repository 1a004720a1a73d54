"""Evaluation: criteria per stage (the template's unless the buyer sets its own), evaluator assignment,
conflict-of-interest declarations, independent scores with justification, progress and ranking."""

from __future__ import annotations

import json
import uuid
from typing import Any

from marketplace.accounts.tables import Membership, User
from marketplace.challenges.tables import ChallengeStage
from marketplace.core.auth import Principal
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound, invalid
from marketplace.core.i18n import N_
from marketplace.core.i18n import gettext as _
from marketplace.core.templating import format_moment
from marketplace.evaluation import schemas
from marketplace.evaluation.arithmetic import Crit, competition_ranks, summarise
from marketplace.evaluation.tables import Criterion, Declaration, EvaluationSetup, EvaluatorAssignment, Score
from marketplace.mail.services import enqueue_mail, notify
from marketplace.procedures.schemas import ScoreGuidance, guidance_out
from marketplace.proposals import access
from marketplace.proposals.services import get_challenge, parse_uuid, proposal_view, stage_rows, template_of
from marketplace.proposals.tables import Decision, Proposal, ProposalStage
from marketplace.transparency.audit import record


async def buyer_challenge(principal: Principal, challenge_id: Any, *, deciding: bool = False) -> dict[str, Any]:
    """The challenge, if the principal is on its buyer team (civil servant when `deciding`); else 404."""
    challenge = await get_challenge(challenge_id)
    roles = ("civil_servant",) if deciding else access.BUYER_TEAM_ROLES
    if not principal.has_role(*roles, organisation_id=str(challenge["buyer"])):
        raise NotFound("challenge")
    return challenge


# Criteria ---------------------------------------------------------------------------------------------


async def criteria_for(challenge: dict[str, Any], stage: str) -> list[schemas.CriterionOut]:
    """The criteria that score a stage: the challenge's own, or else the template's."""
    rows = await Criterion.select().where((Criterion.challenge == challenge["id"]) & (Criterion.stage == stage)).order_by(Criterion.position)
    if rows:
        return [schemas.CriterionOut(key=r["key"], name=r["name"], stage=stage, weight=r["weight"], scale_max=r["scale_max"],
                                     description=r["description"],
                                     guidance=[ScoreGuidance(score=s, text=t) for s, t in json.loads(r["guidance"] or "[]")])
                for r in rows]
    spec = template_of(challenge).stage(stage)
    return [schemas.CriterionOut(key=c.key, name=str(c.name), stage=stage, weight=c.weight, scale_max=c.scale_max,
                                description=str(c.description), guidance=guidance_out(c))
            for c in spec.criteria]


async def all_criteria(challenge: dict[str, Any]) -> list[schemas.CriterionOut]:
    out: list[schemas.CriterionOut] = []
    for key in template_of(challenge).stage_keys:
        out.extend(await criteria_for(challenge, key))
    return out


async def replace_criteria(principal: Principal, challenge_id: Any, items: list[schemas.CriterionIn]) -> list[schemas.CriterionOut]:
    """Set the criteria of the stages named in `items` (each must keep `team`: the team and its motivation).
    Refused once scoring of a stage has begun."""
    challenge = await buyer_challenge(principal, challenge_id, deciding=True)
    template = template_of(challenge)
    errors: list[FieldError] = []
    seen: dict[str, set[str]] = {}
    for i, c in enumerate(items):
        if c.stage not in template.stage_keys:
            errors.append(FieldError(f"[{i}].stage", f"is not a stage of this challenge ({', '.join(template.stage_keys)})"))
            continue
        if c.weight <= 0:
            errors.append(FieldError(f"[{i}].weight", "must be a positive whole number"))
        if c.scale_max <= 0 or c.scale_max > 100:
            errors.append(FieldError(f"[{i}].scale_max", "must be a whole number from 1 to 100"))
        for j, g in enumerate(c.guidance):
            if not 0 <= g.score <= c.scale_max:
                errors.append(FieldError(f"[{i}].guidance[{j}].score", f"is outside the scale: from 0 to {c.scale_max}"))
            elif not g.text.strip():
                errors.append(FieldError(f"[{i}].guidance[{j}].text", "is required: say what a proposal given this score looks like"))
        if len({g.score for g in c.guidance}) != len(c.guidance):
            errors.append(FieldError(f"[{i}].guidance", "give each score once"))
        if c.key in seen.setdefault(c.stage, set()):
            errors.append(FieldError(f"[{i}].key", "is used twice in this stage"))
        seen[c.stage].add(c.key)
    for stage, keys in seen.items():
        if "team" not in keys:
            errors.append(FieldError(f"{stage}.team", "the criteria of every stage must include `team` (the team and its motivation)"))
    if errors:
        raise Invalid(errors)
    async with transaction():
        for stage in seen:
            if await Score.exists().where((Score.stage == stage) & (Score.proposal.challenge == challenge["id"])):
                raise Conflict(_("Scoring of this stage has begun: its criteria can no longer change."), [FieldError("stage", stage)])
            await Criterion.delete().where((Criterion.challenge == challenge["id"]) & (Criterion.stage == stage))
        for i, c in enumerate(items):
            guidance = json.dumps(sorted([g.score, g.text.strip()] for g in c.guidance), ensure_ascii=False)
            await Criterion.insert(Criterion(challenge=challenge["id"], stage=c.stage, key=c.key, name=c.name, description=c.description,
                                             weight=c.weight, scale_max=c.scale_max, position=i, guidance=guidance))
        await record(principal, "criteria.replaced", "challenge", challenge["id"], {"stages": sorted(seen)},
                     after={"criteria": [[c.stage, c.key, c.weight, c.scale_max] for c in items]})
    return await all_criteria(challenge)


async def set_blind(principal: Principal, challenge_id: Any, blind: bool) -> schemas.SetupOut:
    """Hide company identity from evaluators in the first round (before its scoring begins)."""
    challenge = await buyer_challenge(principal, challenge_id, deciding=True)
    first = template_of(challenge).stage_keys[0]
    if await Score.exists().where((Score.stage == first) & (Score.proposal.challenge == challenge["id"])):
        raise Conflict(_("Scoring of the first round has begun: blindness can no longer change."))
    existing = await EvaluationSetup.select().where(EvaluationSetup.challenge == challenge["id"]).first()
    async with transaction():
        if existing:
            await EvaluationSetup.update({EvaluationSetup.blind_first_round: blind, EvaluationSetup.updated_at: now()}).where(
                EvaluationSetup.id == existing["id"])
        else:
            await EvaluationSetup.insert(EvaluationSetup(challenge=challenge["id"], blind_first_round=blind))
        await record(principal, "evaluation.blind_set", "challenge", challenge["id"],
                     before={"blind_first_round": bool(existing and existing["blind_first_round"])}, after={"blind_first_round": blind})
    return schemas.SetupOut(challenge_id=str(challenge["id"]), blind_first_round=blind)


async def is_blind(challenge_id: Any) -> bool:
    row = await EvaluationSetup.select().where(EvaluationSetup.challenge == challenge_id).first()
    return bool(row and row["blind_first_round"])


# Evaluators and declarations --------------------------------------------------------------------------


async def assign_evaluator(principal: Principal, challenge_id: Any, user_id: str) -> schemas.EvaluatorOut:
    """Assign an evaluator: a person with the evaluator role in the buyer (or another public body, an invited expert)."""
    challenge = await buyer_challenge(principal, challenge_id, deciding=True)
    try:
        uid = uuid.UUID(user_id)
    except ValueError:
        raise invalid("user_id", "is not an evaluator") from None
    is_evaluator = await Membership.exists().where(
        (Membership.user == uid) & (Membership.role == Membership.Role.evaluator) & (Membership.organisation.kind == "public_body"))
    if not is_evaluator:
        raise invalid("user_id", "is not an evaluator of a public body")
    try:
        async with transaction():
            await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=challenge["id"], evaluator=uid,
                                                                 assigned_by=uuid.UUID(principal.user_id)))
            await record(principal, "evaluator.assigned", "challenge", challenge["id"], {"evaluator": str(uid)})
            await tell_evaluator(uid, challenge)
    except Exception as exc:
        if is_integrity_error(exc):
            raise Conflict(_("This evaluator is already assigned."), [FieldError("user_id", "is already assigned")]) from None
        raise
    return (await evaluators(challenge))[str(uid)]


async def tell_evaluator(user_id: uuid.UUID, challenge: dict[str, Any]) -> None:
    """The evaluator hears at once (in-app and by e-mail, in their language) that they evaluate this challenge."""
    person = await User.select(User.email, User.name, User.locale).where(User.id == user_id).first()
    link = f"/challenges/{challenge['id']}/declaration"
    await notify(user_id, "evaluator_assigned", N_("You evaluate “%(title)s”"), "", link, title=challenge["title"])
    await enqueue_mail(person["email"], "evaluator_assigned", locale=person["locale"], name=person["name"],
                       title=challenge["title"], link=link)


async def evaluators(challenge: dict[str, Any]) -> dict[str, schemas.EvaluatorOut]:
    rows = await EvaluatorAssignment.select(EvaluatorAssignment.all_columns(), EvaluatorAssignment.evaluator.name.as_alias("name")).where(
        EvaluatorAssignment.challenge == challenge["id"]).order_by(EvaluatorAssignment.assigned_at)
    declarations = {str(d["evaluator"]): d for d in await Declaration.select().where(Declaration.challenge == challenge["id"])}
    return {str(r["evaluator"]): schemas.EvaluatorOut(
        user_id=str(r["evaluator"]), name=r["name"], declared=str(r["evaluator"]) in declarations,
        has_conflict=bool(declarations.get(str(r["evaluator"]), {}).get("has_conflict")), assigned_at=rfc3339(r["assigned_at"]))
        for r in rows}


async def declare(principal: Principal, challenge_id: Any, has_conflict: bool, statement: str) -> schemas.DeclarationOut:
    """An assigned evaluator declares (no) conflict of interest; required before any proposal opens.
    It may be changed until they score; a conflict keeps every proposal of the challenge closed to them."""
    challenge = await get_challenge(challenge_id)
    uid = uuid.UUID(principal.user_id)
    from marketplace.evaluation.jury import claim_seats

    await claim_seats(uid)  # a juror invited by e-mail takes their seat once they accepted the invitation
    if not await EvaluatorAssignment.exists().where((EvaluatorAssignment.challenge == challenge["id"]) & (EvaluatorAssignment.evaluator == uid)):
        raise NotFound("challenge")
    statement = statement.strip()
    if has_conflict and not statement:
        raise invalid("statement", "is required when you declare a conflict: say what it is")
    async with transaction():
        if await Score.exists().where((Score.evaluator == uid) & (Score.proposal.challenge == challenge["id"])):
            raise Conflict(_("You have already scored proposals of this challenge: your declaration is final."))
        await Declaration.delete().where((Declaration.challenge == challenge["id"]) & (Declaration.evaluator == uid))
        moment = now()
        await Declaration.insert(Declaration(challenge=challenge["id"], evaluator=uid, has_conflict=has_conflict, statement=statement,
                                             declared_at=moment))
        await record(principal, "declaration.made", "challenge", challenge["id"], {"has_conflict": has_conflict})
    return schemas.DeclarationOut(challenge_id=str(challenge["id"]), has_conflict=has_conflict, statement=statement, declared_at=rfc3339(moment))


# Scores -----------------------------------------------------------------------------------------------


async def my_scores(proposal_id: Any, stage: str, evaluator_id: Any, criteria: list[schemas.CriterionOut]) -> schemas.ScoresOut:
    rows = await Score.select().where((Score.proposal == proposal_id) & (Score.stage == stage) & (Score.evaluator == evaluator_id))
    by_key = {r["criterion"]: r for r in rows}
    return schemas.ScoresOut(
        proposal_id=str(proposal_id), stage=stage,
        scores=[schemas.ScoreOut(criterion=c.key, value=by_key[c.key]["value"], justification=by_key[c.key]["justification"])
                for c in criteria if c.key in by_key],
        complete=all(c.key in by_key for c in criteria))


async def score(principal: Principal, proposal_id: Any, data: schemas.ScoresIn) -> schemas.ScoresOut:
    """An assigned evaluator who declared no conflict scores a proposal at a stage in evaluation:
    each value from 0 to the criterion's scale, each with a justification. All or nothing."""
    proposal, challenge, viewer, keys = await proposal_view(principal, proposal_id)
    if viewer.kind != access.EVALUATOR:
        raise NotFound("proposal")
    if data.stage not in keys:
        raise invalid("stage", "is not a stage of this proposal that is open to evaluation")
    stage = (await stage_rows(challenge["id"]))[data.stage]
    if stage["status"] == "decided":
        raise Conflict(_("This stage is closed: its scores are final."))
    from marketplace.evaluation.jury import JURY, check_panel

    await check_panel(challenge, data.stage, principal.user_id)  # the jury scores `panel = "jury"` stages, the evaluators the others
    live = template_of(challenge).stage(data.stage).panel == JURY  # a juror scores live: a comment is welcome, not required
    criteria = {c.key: c for c in await criteria_for(challenge, data.stage)}
    errors: list[FieldError] = []
    for i, s in enumerate(data.scores):
        c = criteria.get(s.criterion)
        if c is None:
            errors.append(FieldError(f"scores[{i}].criterion", f"is not a criterion of this stage ({', '.join(criteria)})"))
            continue
        if not 0 <= s.value <= c.scale_max:
            errors.append(FieldError(f"scores[{i}].value", f"must be from 0 to {c.scale_max}"))
        if not s.justification.strip() and not live:
            errors.append(FieldError(f"scores[{i}].justification", "is required: say why"))
    if len({s.criterion for s in data.scores}) != len(data.scores):
        errors.append(FieldError("scores", "name each criterion once"))
    if errors:
        raise Invalid(errors)
    uid = uuid.UUID(principal.user_id)
    async with transaction():
        for s in data.scores:
            await Score.delete().where((Score.proposal == proposal["id"]) & (Score.stage == data.stage) & (Score.criterion == s.criterion)
                                       & (Score.evaluator == uid))
            await Score.insert(Score(proposal=proposal["id"], stage=data.stage, criterion=s.criterion, evaluator=uid, value=s.value,
                                     justification=s.justification.strip()))
        await record(principal, "score.given", "proposal", proposal["id"], {"stage": data.stage},
                     after={s.criterion: s.value for s in data.scores})
    return await my_scores(proposal["id"], data.stage, uid, list(criteria.values()))


async def submitted_at_stage(challenge_id: Any, stage: str) -> list[dict[str, Any]]:
    """Proposals submitted at a stage (not withdrawn), with their company's name."""
    return await ProposalStage.select(
        ProposalStage.proposal, ProposalStage.proposal.company.name.as_alias("company_name"),
    ).where((ProposalStage.stage == stage) & (ProposalStage.version > 0) & (ProposalStage.proposal.challenge == challenge_id)
            & (ProposalStage.proposal.status != Proposal.Status.withdrawn))


async def progress(principal: Principal, challenge_id: Any, stage: str | None) -> list[schemas.ProgressOut]:
    """How far each evaluator is: proposals of the stage with every criterion scored. Before the stage's
    deadline nothing is counted (`sealed`): the number of submissions is sealed too."""
    challenge = await buyer_challenge(principal, challenge_id)
    key = _stage_key(challenge, stage)
    stage_row = (await stage_rows(challenge["id"])).get(key)
    if stage_row is None or not access.unsealed(stage_row["closes_at"]):
        return [schemas.ProgressOut(user_id=e.user_id, name=e.name, declared=e.declared, has_conflict=e.has_conflict,
                                    proposals_total=None, proposals_scored=None, sealed=True)
                for e in (await evaluators(challenge)).values()]
    proposals = [r["proposal"] for r in await submitted_at_stage(challenge["id"], key)]
    criteria = {c.key for c in await criteria_for(challenge, key)}
    rows = await Score.select(Score.proposal, Score.evaluator, Score.criterion).where(
        (Score.stage == key) & Score.proposal.is_in(proposals or [uuid.uuid4()]))
    done: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        done.setdefault((str(r["evaluator"]), str(r["proposal"])), set()).add(r["criterion"])
    out = []
    for e in (await evaluators(challenge)).values():
        scored = sum(1 for p in proposals if criteria <= done.get((e.user_id, str(p)), set()))
        out.append(schemas.ProgressOut(user_id=e.user_id, name=e.name, declared=e.declared, has_conflict=e.has_conflict,
                                       proposals_total=0 if e.has_conflict else len(proposals), proposals_scored=scored))
    return out


def _stage_key(challenge: dict[str, Any], stage: str | None) -> str:
    template = template_of(challenge)
    if stage is None:
        return challenge["current_stage"] or template.stage_keys[0]
    if stage not in template.stage_keys:
        raise invalid("stage", f"is not a stage of this challenge ({', '.join(template.stage_keys)})")
    return stage


async def ranking(principal: Principal, challenge_id: Any, stage: str | None) -> schemas.RankingOut:
    """The ranking, for the challenge's buyer team (404 for anyone else)."""
    challenge = await buyer_challenge(principal, challenge_id)
    return await stage_ranking(challenge["id"], stage)


buyer_ranking = ranking


async def stage_ranking(challenge_id: Any, stage: str | None) -> schemas.RankingOut:
    """Weighted totals, per-criterion means, the spread between evaluators, and the rank of a stage's
    proposals (409 while the stage is sealed). No authorisation here: callers check who is asking."""
    challenge = await get_challenge(challenge_id)
    key = _stage_key(challenge, stage)
    stages = await stage_rows(challenge["id"])
    if not access.unsealed(stages[key]["closes_at"]):
        raise Conflict(_("Proposals are sealed until the deadline of this stage, %(at)s.", at=format_moment(stages[key]["closes_at"])))
    criteria = await criteria_for(challenge, key)
    crits = [Crit(c.key, c.weight, c.scale_max) for c in criteria]
    proposals = await submitted_at_stage(challenge["id"], key)
    ids = [p["proposal"] for p in proposals] or [uuid.uuid4()]
    scores = await Score.select(Score.proposal, Score.evaluator, Score.criterion, Score.value).where(
        (Score.stage == key) & Score.proposal.is_in(ids))
    decisions = {str(d["proposal"]): d["outcome"] for d in await Decision.select(Decision.proposal, Decision.outcome).where(
        (Decision.stage == key) & Decision.proposal.is_in(ids))}
    summaries = []
    for p in proposals:
        rows = [(str(s["evaluator"]), s["criterion"], s["value"]) for s in scores if s["proposal"] == p["proposal"]]
        summaries.append((p, summarise(crits, rows)))
    summaries.sort(key=lambda ps: (-ps[1]["weighted_total"], ps[0]["company_name"], str(ps[0]["proposal"])))
    ranks = competition_ranks([s["weighted_total"] for _, s in summaries])
    items = [schemas.RankingItem(
        rank=rank, proposal_id=str(p["proposal"]), company=p["company_name"], weighted_total=s["weighted_total"], spread=s["spread"],
        evaluators=s["evaluators"], complete=s["complete"],
        criteria=[schemas.CriterionMean(criterion=c.key, mean=s["means"][c.key]) for c in crits],
        decision=decisions.get(str(p["proposal"])),
    ) for rank, (p, s) in zip(ranks, summaries, strict=True)]
    return schemas.RankingOut(challenge_id=str(challenge["id"]), stage=key, criteria=criteria, items=items)


async def evaluator_name(user_id: Any) -> str:
    row = await User.select(User.name).where(User.id == parse_uuid(user_id, "user")).first()
    return row["name"] if row else ""


async def justifications(challenge: dict[str, Any], stage: str, proposal_ids: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Every evaluator's scores with their justifications, per proposal (for the buyer team's decision
    form and the evaluation report; callers check who is asking): evaluator, criterion, value, scale."""
    if not proposal_ids:
        return {}
    criteria = {c.key: c for c in await criteria_for(challenge, stage)}
    rows = await Score.select(Score.proposal, Score.criterion, Score.value, Score.justification,
                              Score.evaluator.name.as_alias("evaluator_name")).where(
        (Score.stage == stage) & Score.proposal.is_in([parse_uuid(p, "proposal") for p in proposal_ids]))
    order = {key: i for i, key in enumerate(criteria)}
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (r["evaluator_name"], order.get(r["criterion"], 99))):
        c = criteria.get(r["criterion"])
        out.setdefault(str(r["proposal"]), []).append({
            "evaluator": r["evaluator_name"], "criterion": c.name if c else r["criterion"], "value": r["value"],
            "scale_max": c.scale_max if c else None, "justification": r["justification"]})
    return out


async def scored_by(evaluator_id: Any, stage: str, proposal_ids: list[Any], criteria_count: int) -> dict[str, str]:
    """For one evaluator: "done" for each proposal with every criterion scored, "started" or "to do"."""
    if not proposal_ids:
        return {}
    rows = await Score.select(Score.proposal, Score.criterion).where(
        (Score.stage == stage) & (Score.evaluator == parse_uuid(evaluator_id, "user"))
        & Score.proposal.is_in([parse_uuid(p, "proposal") for p in proposal_ids]))
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r["proposal"])] = counts.get(str(r["proposal"]), 0) + 1
    return {str(p): ("done" if counts.get(str(p), 0) >= criteria_count > 0 else "started" if counts.get(str(p)) else "to do")
            for p in proposal_ids}


def most_disagreed(ranking: schemas.RankingOut, threshold: float = 20.0, top: int = 3) -> list[schemas.RankingItem]:
    """The proposals whose evaluators' totals are furthest apart (at least `threshold` points): worth a discussion."""
    return sorted((i for i in ranking.items if i.evaluators > 1 and i.spread >= threshold), key=lambda i: -i.spread)[:top]


async def left_to_score(evaluator_id: Any) -> list[dict[str, Any]]:
    """For an evaluator's home: each published challenge they are assigned to that waits for them, with `action`
    "declare" (no conflict-of-interest declaration yet: nothing opens before it) or "score" (the current stage's
    deadline passed, it is not decided, and `count` of its `total` submitted proposals still lack a score on some
    criterion). A declared conflict, or nothing left, leaves the challenge out. Keys: `id`, `title`, `action`,
    `stage`, `count`, `total`."""
    uid = parse_uuid(evaluator_id, "user")
    assigned = await EvaluatorAssignment.select(
        EvaluatorAssignment.challenge.id.as_alias("id"), EvaluatorAssignment.challenge.title.as_alias("title"),
        EvaluatorAssignment.challenge.current_stage.as_alias("current_stage"),
        EvaluatorAssignment.challenge.procedure_template.as_alias("procedure_template"),
        EvaluatorAssignment.challenge.procedure_version.as_alias("procedure_version"),
    ).where((EvaluatorAssignment.evaluator == uid) & (EvaluatorAssignment.challenge.status == "published"))
    if not assigned:
        return []
    declared = {d["challenge"]: d["has_conflict"] for d in await Declaration.select(Declaration.challenge, Declaration.has_conflict).where(
        (Declaration.evaluator == uid) & Declaration.challenge.is_in([a["id"] for a in assigned]))}
    out = [{**a, "action": "declare", "stage": a["current_stage"], "count": 0, "total": 0} for a in assigned if a["id"] not in declared]
    scoring = {a["id"]: a for a in assigned if a["id"] in declared and not declared[a["id"]]}
    if scoring:
        stages = await ChallengeStage.select(ChallengeStage.challenge, ChallengeStage.key, ChallengeStage.closes_at).where(
            ChallengeStage.challenge.is_in(list(scoring)) & (ChallengeStage.status != ChallengeStage.Status.decided))
        in_evaluation = {s["challenge"] for s in stages if s["key"] == scoring[s["challenge"]]["current_stage"] and access.unsealed(s["closes_at"])}
        out += await _unscored(uid, [scoring[c] for c in in_evaluation])
    return sorted(out, key=lambda r: (r["action"] != "declare", r["title"]))


async def _unscored(uid: uuid.UUID, challenges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`left_to_score` for the challenges whose current stage is in evaluation: three queries for all of them."""
    if not challenges:
        return []
    ids = [c["id"] for c in challenges]
    copies = await ProposalStage.select(ProposalStage.proposal, ProposalStage.stage, ProposalStage.proposal.challenge.as_alias("challenge")).where(
        (ProposalStage.version > 0) & ProposalStage.proposal.challenge.is_in(ids) & (ProposalStage.proposal.status != Proposal.Status.withdrawn))
    own = {}
    for r in await Criterion.select(Criterion.challenge, Criterion.stage, Criterion.key).where(Criterion.challenge.is_in(ids)):
        own.setdefault((r["challenge"], r["stage"]), set()).add(r["key"])
    done: dict[tuple[Any, str], set[str]] = {}
    if copies:
        for s in await Score.select(Score.proposal, Score.stage, Score.criterion).where(
                (Score.evaluator == uid) & Score.proposal.is_in([c["proposal"] for c in copies])):
            done.setdefault((s["proposal"], s["stage"]), set()).add(s["criterion"])
    out = []
    for c in challenges:
        key = c["current_stage"]
        criteria = own.get((c["id"], key)) or {k.key for k in template_of(c).stage(key).criteria}
        proposals = [p["proposal"] for p in copies if p["challenge"] == c["id"] and p["stage"] == key]
        left = sum(1 for p in proposals if not criteria <= done.get((p, key), set()))
        if left:
            out.append({**c, "action": "score", "stage": key, "count": left, "total": len(proposals)})
    return out
