"""Questions and answers: companies ask until the Q&A deadline, the buyer team answers, answers are public,
and the asker is never named outside the buyer team."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count, Min

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges import schemas
from marketplace.challenges.services import (
    get_row,
    is_buyer_team,
    parse_id,
    stage_rows,
    template_of,
    visible_row,
)
from marketplace.challenges.tables import Follow, Question
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, from_db, now, rfc3339
from marketplace.core.db import stamp_before, transaction
from marketplace.core.errors import Conflict, Forbidden, NotFound, invalid
from marketplace.core.i18n import N_
from marketplace.mail.services import enqueue_mail, notify
from marketplace.procedures import engine
from marketplace.transparency.audit import record

ASKER_ROLES = ("company_member", "incubator_member")


def question_out(row: dict, with_asker: bool = False, asker: dict | None = None) -> schemas.QuestionOut:
    return schemas.QuestionOut(
        id=str(row["id"]), challenge_id=str(row["challenge"]), text=row["text"], asked_at=rfc3339(row["asked_at"]) or "",
        answer=row["answer"], answered_at=rfc3339(row["answered_at"]),
        asker=schemas.AskerOut(user_id=str(row["asked_by"]) if row["asked_by"] else None,
                               name=(asker or {}).get("name"), organisation=(asker or {}).get("organisation"))
        if with_asker else None,
    )


async def ask(principal: Principal, challenge_id: Any, data: schemas.QuestionIn) -> schemas.QuestionOut:
    """A company or incubator member asks a question before the Q&A deadline."""
    row = await visible_row(principal, challenge_id)
    text = data.text.strip()
    if not text:
        raise invalid("text", "is required")
    if row["status"] != "published":
        raise Conflict(f"Questions are closed: this challenge is {row['status']}.")
    moment = now()
    if row["qa_closes_at"] is None or moment > as_utc(row["qa_closes_at"]):
        raise Conflict(f"The Q&A deadline ({rfc3339(row['qa_closes_at'])}) has passed: questions are closed.")
    template = template_of(row)
    if template is not None:
        engine.require(template, engine.open_stage_key(await stage_rows(row["id"]), moment), "ask_question")
    orgs = principal.organisations(*ASKER_ROLES)
    question = Question(challenge=row["id"], asked_by=principal.user_id, asker_organisation=orgs[0] if orgs else None,
                        text=text, asked_at=moment)
    async with transaction():
        await question.save()
        await _tell_buyer_team(row)
        await record(principal, "question.asked", "challenge", row["id"], {"question": str(question.id)})
        if await stamp_before(Question, question.id, Question.asked_at, row["qa_closes_at"]) is None:  # last: the database's clock
            raise Conflict(f"The Q&A deadline ({rfc3339(row['qa_closes_at'])}) has passed: questions are closed.")
    return question_out(await Question.select().where(Question.id == question.id).first())


async def _tell_buyer_team(row: dict) -> None:
    from marketplace.accounts.tables import Membership

    members = await Membership.select(Membership.user.id, Membership.user.email, Membership.user.locale).where(
        (Membership.organisation == row["buyer"]) & (Membership.role == "civil_servant"))
    link = f"/challenges/{row['id']}/questions"
    for m in members:
        await notify(m["user.id"], "question_asked", N_("New question on %(title)s"), "", link, title=row["title"])
        await enqueue_mail(m["user.email"], "question_asked", locale=m["user.locale"], title=row["title"], link=link)


async def answer(principal: Principal, question_id: Any, data: schemas.AnswerIn) -> schemas.QuestionOut:
    """The buyer team answers; the answer is public at once."""
    question = await Question.select().where(Question.id == parse_id(question_id, "question")).first()
    if question is None:
        raise NotFound("question")
    row = await visible_row(principal, question["challenge"])
    if not is_buyer_team(principal, row):
        raise Forbidden("Only the buyer team of this challenge can answer its questions.")
    text = data.text.strip()
    if not text:
        raise invalid("text", "is required")
    moment = now()
    async with transaction():
        done = await Question.update({Question.answer: text, Question.answered_by: principal.user_id, Question.answered_at: moment}).where(
            (Question.id == question["id"]) & Question.answer.is_null()).returning(Question.id)
        if not done:
            raise Conflict("This question has already been answered.")
        await record(principal, "question.answered", "challenge", row["id"], {"question": str(question["id"])},
                     before={"answered": False}, after={"answered": True})
        told = set()
        if question["asked_by"]:
            await notify(question["asked_by"], "question_answered", N_("Your question on %(title)s was answered"),
                         text[:300], f"/challenges/{row['id']}#questions", title=row["title"])
            told.add(question["asked_by"])
        # Followers read the same answer as the asker: a dialogue is fair only if everyone hears it.
        for f in await Follow.select(Follow.user).where(Follow.challenge == row["id"]):
            if f["user"] not in told:
                await notify(f["user"], "question_answered", N_("New answer on %(title)s"), text[:300],
                             f"/challenges/{row['id']}#questions", title=row["title"])
    return question_out(await Question.select().where(Question.id == question["id"]).first())


async def list_questions(principal: Principal | None, challenge_id: Any, row: dict | None = None) -> schemas.QuestionList:
    """Answered questions for everyone; the buyer team also sees unanswered ones and who asked. `row`: the
    challenge already read through `visible_row` for this principal (the challenge page), not read again."""
    row = row or await visible_row(principal, challenge_id)
    team = is_buyer_team(principal, row)
    query = Question.select().where(Question.challenge == row["id"])
    if not team:
        query = query.where(Question.answer.is_not_null())
    rows = await query.order_by(Question.asked_at)
    askers: dict[Any, dict] = {}
    if team:
        user_ids = [r["asked_by"] for r in rows if r["asked_by"]]
        org_ids = [r["asker_organisation"] for r in rows if r["asker_organisation"]]
        names = {u["id"]: u["name"] for u in await User.select(User.id, User.name).where(User.id.is_in(user_ids))} if user_ids else {}
        orgs = {o["id"]: o["name"] for o in await Organisation.select(Organisation.id, Organisation.name).where(
            Organisation.id.is_in(org_ids))} if org_ids else {}
        askers = {r["id"]: {"name": names.get(r["asked_by"]), "organisation": orgs.get(r["asker_organisation"])} for r in rows}
    return schemas.QuestionList(items=[question_out(r, team, askers.get(r["id"])) for r in rows])


async def count_blocking_questions(challenge_id: Any) -> int:
    """Questions asked up to the Q&A deadline that still have no answer."""
    row = await get_row(challenge_id)
    query = Question.count().where((Question.challenge == row["id"]) & Question.answer.is_null())
    if row["qa_closes_at"] is not None:
        query = query.where(Question.asked_at <= row["qa_closes_at"])
    return await query


async def answered_questions(challenge_id: Any) -> list[dict]:
    return await Question.select(Question.id, Question.text, Question.answer, Question.asked_at, Question.answered_at).where(
        (Question.challenge == challenge_id) & Question.answer.is_not_null()).order_by(Question.asked_at)



async def unanswered_by_challenge(buyer_ids: list[str]) -> list[dict]:
    """For the buyer team's home: each published challenge of these public bodies with questions still waiting
    for an answer (`id`, `title`, `count`, `oldest`: when the first of them was asked), oldest question first."""
    if not buyer_ids:
        return []
    rows = await Question.select(Question.challenge.id.as_alias("id"), Question.challenge.title.as_alias("title"),
                                 Count(Question.id, alias="count"), Min(Question.asked_at, alias="oldest")).where(
        Question.answer.is_null() & Question.challenge.buyer.is_in([parse_id(b, "organisation") for b in buyer_ids])
        & (Question.challenge.status == "published")).group_by(Question.challenge.id, Question.challenge.title)
    for r in rows:
        r["oldest"] = from_db(r["oldest"])
    return sorted(rows, key=lambda r: r["oldest"])
