"""The demo data: the 112 triage challenge with answered questions, loaded twice without duplicates."""

from marketplace.challenges.tables import Challenge, Question
from marketplace.demo import load_demo


async def test_demo_challenges_load_once_with_answered_questions(client):
    await load_demo()
    counts = (await Challenge.count(), await Question.count())
    await load_demo()
    assert (await Challenge.count(), await Question.count()) == counts
    triage = await Challenge.objects().where(Challenge.title == "Prioritise 112 emergency calls by severity").first()
    # (the proposals demo moves it on: its first stage is decided and the short proposal is open)
    assert triage.status == "published" and triage.current_stage in ("expression_of_interest", "short_proposal")
    questions = (await client.get(f"/api/v1/challenges/{triage.id}/questions")).json()["items"]
    assert len(questions) == 3 and all(q["answer"] for q in questions)
    page = await client.get(f"/challenges/{triage.id}")
    assert page.status_code == 200 and "City of Ghent" in page.text
    catalogue = {c["title"] for c in (await client.get("/api/v1/challenges", params={"limit": "100"})).json()["items"]}
    assert {"Know where bike racks are free at Ghent's stations", "A counter for residents who speak none of our languages"} <= catalogue
    assert {"scheduled", "draft"} <= {c["status"] for c in await Challenge.select(Challenge.status)}
