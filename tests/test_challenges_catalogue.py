"""Anonymous visitors find challenges: full-text search, filters, sorts and cursor pages, on both databases."""

import re
from datetime import timedelta

import time_machine

from marketplace.challenges.tables import Challenge
from marketplace.core.clock import now, rfc3339
from tests.factories import make_org
from tests.factories_challenges import make_challenge


async def _catalogue(client, **params):
    response = await client.get("/api/v1/challenges", params=params)
    assert response.status_code == 200, response.text
    return response.json()


PLAIN = {"summary": "A summary.", "affected_users": "Residents.", "desired_outcomes": "Something better.", "topics": ["general"]}


def _titles(page):
    return [item["title"] for item in page["items"]]


async def test_search_finds_words_and_prefixes_in_the_problem_statement(client):
    await make_challenge(**PLAIN, title="Triage of emergency calls", problem="Operators cannot tell urgent calls apart at peaks.")
    await make_challenge(**{**PLAIN, "topics": ["mobility"]}, title="Bike parking near stations", problem="Commuters cannot find a free rack.")
    await make_challenge(**PLAIN, title="Draft idea", published=False, problem="urgent calls too")
    assert _titles(await _catalogue(client, q="urgent")) == ["Triage of emergency calls"]
    assert _titles(await _catalogue(client, q="emerg call")) == ["Triage of emergency calls"]
    assert _titles(await _catalogue(client, q="commuters rack")) == ["Bike parking near stations"]
    assert _titles(await _catalogue(client, q="mobility")) == ["Bike parking near stations"]
    assert _titles(await _catalogue(client, q="submarine")) == []
    assert len((await _catalogue(client, q='"; DROP TABLE challenge; --'))["items"]) == 0
    assert len((await _catalogue(client))["items"]) == 2


async def test_search_follows_edits(client):
    challenge = await make_challenge(title="Road salt logistics")
    from marketplace.challenges.tables import Challenge

    await Challenge.update({Challenge.title: "Winter gritting routes"}).where(Challenge.id == challenge.id)
    assert _titles(await _catalogue(client, q="gritting")) == ["Winter gritting routes"]
    assert _titles(await _catalogue(client, q="salt")) == []


async def test_filters_by_topic_cpv_buyer_budget_status_and_deadline(client):
    ghent = await make_org("public_body", name="City of Ghent")
    await make_challenge(ghent, title="A", topics=["mobility"], cpv_codes=["34920000-2"], budget_cap_cents=1_000_000)
    await make_challenge(title="B", topics=["public safety"], cpv_codes=["72212000-4"], budget_cap_cents=2_500_000,
                         schedule={"expression_of_interest": now() + timedelta(days=40)})
    closed = await make_challenge(title="C", topics=["mobility"])
    from marketplace.challenges.tables import Challenge

    await Challenge.update({Challenge.status: "closed"}).where(Challenge.id == closed.id)
    assert _titles(await _catalogue(client, topic="mobility")) == ["A"]
    assert _titles(await _catalogue(client, topic="Mobility", status="published,closed", sort="budget")) == ["C", "A"]
    assert _titles(await _catalogue(client, cpv="7221")) == ["B"]
    assert _titles(await _catalogue(client, cpv="34")) == ["A"]
    assert _titles(await _catalogue(client, buyer=str(ghent.id))) == ["A"]
    assert _titles(await _catalogue(client, min_budget="2000000")) == ["B"]
    assert _titles(await _catalogue(client, max_budget="2000000")) == ["A"]
    assert _titles(await _catalogue(client, closing_before=rfc3339(now() + timedelta(days=30)))) == ["A"]
    assert _titles(await _catalogue(client, sort="closing")) == ["A", "B"]
    assert _titles(await _catalogue(client, sort="budget")) == ["B", "A"]


async def test_pages_follow_the_cursor_without_repeats(client):
    start = now()
    for i in range(7):
        with time_machine.travel(start + timedelta(minutes=i), tick=False):
            await make_challenge(title=f"Challenge {i}", budget_cap_cents=1_000_000 + (i % 3) * 100)
    for sort in ("newest", "closing", "budget"):
        seen, cursor = [], None
        while True:
            params = {"limit": "3", "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = await _catalogue(client, **params)
            seen += _titles(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == [f"Challenge {i}" for i in range(7)], sort
    newest = await _catalogue(client, limit="3")
    assert _titles(newest) == ["Challenge 6", "Challenge 5", "Challenge 4"]


async def test_bad_parameters_are_named(client):
    cases = [
        ({"q": "x" * 10_000}, "q"), ({"cpv": "72-1"}, "cpv"), ({"buyer": "ghent"}, "buyer"), ({"status": "draft"}, "status"),
        ({"min_budget": "lots"}, "min_budget"), ({"closing_before": "tomorrow"}, "closing_before"), ({"sort": "random"}, "sort"),
        ({"limit": "1000"}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"),
    ]
    for params, field in cases:
        response = await client.get("/api/v1/challenges", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["errors"][0]["field"] == field
    await make_challenge()
    await make_challenge()
    page = await _catalogue(client, limit="1")
    wrong_sort = await client.get("/api/v1/challenges", params={"cursor": page["next_cursor"], "sort": "budget"})
    assert wrong_sort.status_code == 422


async def test_the_catalogues_open_list_holds_only_challenges_a_company_can_still_join(client):
    from marketplace.challenges.tables import ChallengeStage

    joinable = await make_challenge(title="Still open to newcomers")
    later = await make_challenge(title="Already past its first stage")
    stages = await ChallengeStage.select().where(ChallengeStage.challenge == later.id).order_by(ChallengeStage.position)
    await ChallengeStage.update({ChallengeStage.status: "decided"}).where(ChallengeStage.id == stages[0]["id"])
    await ChallengeStage.update({ChallengeStage.status: "open"}).where(ChallengeStage.id == stages[1]["id"])
    await Challenge.update({Challenge.current_stage: stages[1]["key"]}).where(Challenge.id == later.id)

    default = (await client.get("/challenges")).text
    assert joinable.title in default and later.title not in default
    everything = (await client.get("/challenges", params={"status": "published,awarded,closed"})).text
    assert joinable.title in everything and later.title in everything
    api = (await client.get("/api/v1/challenges", params={"status": "open"})).json()
    assert [i["title"] for i in api["items"]] == [joinable.title]


async def test_the_anonymous_challenge_page_shows_the_deadline_with_time_left(client):
    challenge = await make_challenge(title="Triage")
    page = (await client.get(f"/challenges/{challenge.id}")).text
    facts = page.split('<dl class="facts">')[1].split("</dl>")[0]
    assert "Deadline" in facts and "data-local" in facts and "closes in" in facts
    visible = re.sub(r"<[^>]+>", " ", facts)
    assert re.search(r"\d{2}:\d{2} CES?T", visible) and not re.search(r"\d{2}:\d{2}:\d{2}", visible)  # to the minute, with zone
