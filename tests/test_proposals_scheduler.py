"""The deadline scheduler: a pure list of due events per challenge, applied idempotently, held back by
unanswered questions, and safe when several workers run it at once."""

import asyncio
from datetime import UTC, datetime, timedelta

import time_machine

from marketplace.challenges.tables import ChallengeStage, Question
from marketplace.mail.tables import OutboxMessage
from marketplace.proposals import lifecycle
from marketplace.proposals.lifecycle import advance_stage_deadlines, due_events
from marketplace.worker import discover_jobs
from tests.factories import make_user
from tests.factories_proposals import make_open_challenge, make_proposal, stage_row

T0 = datetime(2026, 9, 7, 7, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_due_events_follow_the_stages():
    stages = [
        {"key": "a", "position": 0, "status": "decided", "opens_at": T0, "closes_at": T0 + DAY},
        {"key": "b", "position": 1, "status": "pending", "opens_at": T0 + 3 * DAY, "closes_at": T0 + 9 * DAY},
        {"key": "c", "position": 2, "status": "pending", "opens_at": T0 + 10 * DAY, "closes_at": T0 + 20 * DAY},
    ]
    assert [(e.action, e.stage, e.at) for e in due_events(stages)] == [("open_stage", "b", T0 + 3 * DAY)]
    stages[1]["status"] = "open"
    assert [(e.action, e.stage) for e in due_events(stages)] == [("close_submissions", "b")]
    stages[1]["status"] = "evaluation"
    assert due_events(stages) == [], "nothing is due while the buyer decides"


def test_the_worker_discovers_the_scheduler():
    assert advance_stage_deadlines in discover_jobs()


async def test_a_deadline_moves_the_stage_to_evaluation_once_even_with_several_workers():
    with time_machine.travel(T0, tick=False) as clock:
        challenge = await make_open_challenge(start=T0)
        closes = (await stage_row(challenge, "expression_of_interest"))["closes_at"]
        clock.move_to(closes - timedelta(seconds=1))
        assert await advance_stage_deadlines() == 0
        assert (await lifecycle.next_due(challenge.id)).at == closes
        clock.move_to(closes)
        results = await asyncio.gather(*(lifecycle.sync_challenge(challenge.id) for _ in range(5)))
        assert sum(results) == 1
        assert (await stage_row(challenge, "expression_of_interest"))["status"] == "evaluation"
        assert await advance_stage_deadlines() == 0, "after a restart, nothing is done twice"


async def test_the_next_stage_opens_once_and_tells_the_advanced_companies_once():
    with time_machine.travel(T0, tick=False) as clock:
        challenge = await make_open_challenge(start=T0)
        proposal = await make_proposal(challenge, status="advanced", stage="short_proposal")
        member = await make_user("company_member", org=proposal.company_org)
        await ChallengeStage.update({ChallengeStage.status: "decided"}).where(
            (ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == "expression_of_interest"))
        opens = (await stage_row(challenge, "short_proposal"))["opens_at"]
        clock.move_to(opens)
        results = await asyncio.gather(*(advance_stage_deadlines() for _ in range(3)))
        assert sum(results) == 1
        assert (await stage_row(challenge, "short_proposal"))["status"] == "open"
        assert await OutboxMessage.count().where((OutboxMessage.kind == "stage_opened") & (OutboxMessage.to_address == member.email)) == 1


async def test_a_stage_opened_late_still_stays_open_its_minimum_time(override_settings):
    override_settings(min_stage_open_days=10)
    with time_machine.travel(T0, tick=False) as clock:
        challenge = await make_open_challenge(start=T0)
        await ChallengeStage.update({ChallengeStage.status: "decided"}).where(
            (ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == "expression_of_interest"))
        planned = await stage_row(challenge, "short_proposal")
        late = planned["closes_at"] - 2 * DAY
        clock.move_to(late)
        await advance_stage_deadlines()
        assert (await stage_row(challenge, "short_proposal"))["closes_at"] == late + 21 * DAY


async def test_unanswered_questions_keep_the_stage_open_past_its_deadline():
    with time_machine.travel(T0, tick=False) as clock:
        challenge = await make_open_challenge(start=T0, qa_closes_at=T0 + 10 * DAY)
        question = Question(challenge=challenge.id, text="Must the solution work in German?", asked_at=T0 + DAY)
        await question.save()
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"])
        assert await advance_stage_deadlines() == 0
        assert (await stage_row(challenge, "expression_of_interest"))["status"] == "open"
        await Question.update({Question.answer: "Yes.", Question.answered_at: T0 + 12 * DAY}).where(Question.id == question.id)
        assert await advance_stage_deadlines() == 1
        assert (await stage_row(challenge, "expression_of_interest"))["status"] == "evaluation"
