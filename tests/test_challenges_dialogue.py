"""Questions and answers: who may ask and answer, until when, and the asker's anonymity."""

from datetime import timedelta

import time_machine

from marketplace.challenges.services import unanswered_questions_blocking_close
from marketplace.challenges.tables import Question
from marketplace.core.clock import now
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import make_user, signed_in_client, token_for
from tests.factories_challenges import make_buyer_team, make_challenge


async def _ask(client, challenge, user, text="Which languages must the triage support?"):
    return await client.post(f"/api/v1/challenges/{challenge.id}/questions", json={"text": text}, headers=await token_for(user))


async def test_company_asks_buyer_answers_and_everyone_reads_without_the_askers_name(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    lena = await make_user("company_member", name="Lena Claes")
    asked = await _ask(client, challenge, lena)
    assert asked.status_code == 201, asked.text
    question = asked.json()
    assert question["asker"] is None and question["answer"] is None
    assert await OutboxMessage.count().where(OutboxMessage.kind == "question_asked") == 1
    assert (await client.get(f"/api/v1/challenges/{challenge.id}/questions")).json()["items"] == []
    assert await unanswered_questions_blocking_close(challenge.id) == 1

    team_view = await client.get(f"/api/v1/challenges/{challenge.id}/questions", headers=await token_for(team.civil_servant))
    assert team_view.json()["items"][0]["asker"]["name"] == "Lena Claes"

    answered = await client.post(f"/api/v1/questions/{question['id']}/answer", json={"text": "Dutch, French and German."},
                                 headers=await token_for(team.civil_servant))
    assert answered.status_code == 200, answered.text
    assert await unanswered_questions_blocking_close(challenge.id) == 0
    assert await Notification.count().where(Notification.user == lena.id) == 1
    for viewer in (None, await make_user("company_member"), await make_user("civil_servant"), lena):
        headers = await token_for(viewer) if viewer else {}
        items = (await client.get(f"/api/v1/challenges/{challenge.id}/questions", headers=headers)).json()["items"]
        assert items[0]["answer"] == "Dutch, French and German." and items[0]["asker"] is None
        assert "Lena" not in str(items)
    again = await client.post(f"/api/v1/questions/{question['id']}/answer", json={"text": "Changed."}, headers=await token_for(team.officer))
    assert again.status_code == 409


async def test_questions_close_at_the_qa_deadline(client):
    challenge = await make_challenge(qa_closes_at=now() + timedelta(days=3))
    company = await make_user("company_member")
    with time_machine.travel(now() + timedelta(days=3, seconds=1)):
        late = await _ask(client, challenge, company)
    assert late.status_code == 409 and "Q&A deadline" in late.json()["detail"]
    assert await Question.count() == 0


async def test_only_questions_asked_before_the_deadline_block_the_close(client):
    challenge = await make_challenge(qa_closes_at=now() + timedelta(days=3))
    await Question.insert(Question(challenge=challenge.id, text="Late one", asked_at=now() + timedelta(days=4)))
    await Question.insert(Question(challenge=challenge.id, text="In time", asked_at=now() + timedelta(days=1)))
    assert await unanswered_questions_blocking_close(challenge.id) == 1


async def test_who_may_ask_and_answer(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    incubator = await make_user("incubator_member")
    assert (await _ask(client, challenge, incubator)).status_code == 201
    response = await client.post(f"/api/v1/challenges/{challenge.id}/questions", json={"text": "Anonymous?"})
    assert response.status_code == 401
    assert (await _ask(client, challenge, team.civil_servant)).status_code == 403
    assert (await _ask(client, challenge, incubator, text="   ")).status_code == 422
    assert (await _ask(client, challenge, incubator, text="x" * 4001)).status_code == 422
    draft = await make_challenge(published=False)
    assert (await _ask(client, draft, incubator)).status_code == 404
    question = await Question.objects().first()
    url = f"/api/v1/questions/{question.id}/answer"
    assert (await client.post(url, json={"text": "Yes."})).status_code == 401
    assert (await client.post(url, json={"text": "Yes."}, headers=await token_for(await make_user("company_member")))).status_code == 403
    assert (await client.post(url, json={"text": "Yes."}, headers=await token_for(await make_user("civil_servant")))).status_code == 403
    assert (await client.post(url, json={"text": ""}, headers=await token_for(team.civil_servant))).status_code == 422
    assert (await client.post("/api/v1/questions/nope/answer", json={"text": "Yes."}, headers=await token_for(team.civil_servant))).status_code == 404
    assert (await Question.objects().first()).answer is None


async def test_followers_hear_of_every_answer(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    asker, follower = await make_user("company_member"), await make_user("incubator_member")
    await client.post(f"/api/v1/challenges/{challenge.id}/follow", headers=await token_for(follower))
    await client.post(f"/api/v1/challenges/{challenge.id}/follow", headers=await token_for(asker))
    question = (await _ask(client, challenge, asker)).json()
    await client.post(f"/api/v1/questions/{question['id']}/answer", json={"text": "All three."}, headers=await token_for(team.civil_servant))
    assert await Notification.count().where((Notification.user == follower.id) & (Notification.kind == "question_answered")) == 1
    assert await Notification.count().where((Notification.user == asker.id) & (Notification.kind == "question_answered")) == 1


async def test_the_buyer_team_is_told_of_a_question_in_its_own_language(client):
    from marketplace.accounts.tables import User

    team = await make_buyer_team()
    await User.update({User.locale: "nl"}).where(User.id == team.civil_servant.id)
    challenge = await make_challenge(team.org, title="Triage at peaks")
    assert (await _ask(client, challenge, await make_user("company_member"))).status_code == 201
    assert await Notification.count().where(Notification.user == team.civil_servant.id) == 1
    servant = await signed_in_client(client, team.civil_servant)
    assert "Nieuwe vraag over Triage at peaks" in (await servant.get("/notifications")).text
