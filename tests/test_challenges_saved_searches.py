"""Any catalogue search can be kept as an alert: a member is told once of every new challenge it would list,
sees it in plain words in their language, and pages their alerts like every other list."""

from datetime import timedelta

import time_machine

from marketplace.challenges.matchmaking import send_match_digests
from marketplace.challenges.tables import MatchNotice, Subscription
from marketplace.core.clock import now
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import csrf_token, make_user, signed_in_client, token_for
from tests.factories_challenges import make_buyer_team, publish_through_api


async def test_a_saved_search_tells_of_new_challenges_it_would_list(client):
    team = await make_buyer_team()
    lena = await make_user("company_member")
    headers = await token_for(lena)
    search = {"q": "Urgent calls", "topic": "Public  Safety", "cpv": "72", "min_budget": 1_000_000, "max_budget": 2_800_000}
    created = await client.post("/api/v1/subscriptions", json={"search": search}, headers=headers)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["search"] == {**search, "topic": "public safety"} and alert["keywords"] == []
    assert alert["catalogue_url"] == "/challenges?q=Urgent+calls&topic=public+safety&cpv=72&min_budget=10000&max_budget=28000"

    found = await publish_through_api(client, team, title="Triage of urgent calls", problem="Callers wait.", topics=["public safety"],
                           cpv_codes=["72212000-4"], budget_cap_cents=2_500_000)
    await publish_through_api(client, team, title="Urgent calls, other topic", topics=["mobility"], cpv_codes=["72212000-4"])
    await publish_through_api(client, team, title="Urgent calls, too big", topics=["public safety"], cpv_codes=["72212000-4"],
                   budget_cap_cents=2_900_000)
    await publish_through_api(client, team, title="Bins", summary="Bins.", problem="Bins overflow.", topics=["public safety"],
                   cpv_codes=["72212000-4"], desired_outcomes="Empty bins.", affected_users="Residents.")
    assert [n["challenge"] for n in await MatchNotice.select(MatchNotice.challenge)] == [found.id]
    notice = await Notification.objects().where(Notification.user == lena.id).first()
    assert notice.kind == "challenge_match" and "Triage of urgent calls" in notice.title
    with time_machine.travel(now() + timedelta(hours=1, seconds=1)):
        assert await send_match_digests() == 1
    digest = await OutboxMessage.objects().where(OutboxMessage.kind == "challenge_digest").first()
    assert digest.to_address == lena.email and "Triage of urgent calls" in digest.body_text


async def test_saved_search_input_is_checked_and_named(client):
    headers = await token_for(await make_user("incubator_member"))
    for body, field in (({"search": {}}, "search"), ({"search": {"cpv": "7x"}}, "search.cpv"),
                        ({"search": {"q": "a", "min_budget": 5, "max_budget": 4}}, "search.max_budget"),
                        ({"search": {"q": "a", "min_budget": -1}}, "search.min_budget")):
        response = await client.post("/api/v1/subscriptions", json=body, headers=headers)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, (body, response.text)
    unknown = await client.post("/api/v1/subscriptions", json={"search": {"q": "a", "sort": "closing"}}, headers=headers)
    assert unknown.status_code == 422  # a saved search keeps what chooses challenges, not their order
    assert await Subscription.count() == 0


async def test_alerts_are_listed_in_pages(client):
    headers = await token_for(await make_user("company_member"))
    ids = [(await client.post("/api/v1/subscriptions", json={"search": {"q": f"word{n}"}}, headers=headers)).json()["id"]
           for n in range(3)]
    first = (await client.get("/api/v1/subscriptions?limit=2", headers=headers)).json()
    assert [a["id"] for a in first["items"]] == ids[:2] and first["next_cursor"]
    rest = (await client.get(f"/api/v1/subscriptions?limit=2&cursor={first['next_cursor']}", headers=headers)).json()
    assert [a["id"] for a in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    assert (await client.get("/api/v1/subscriptions?cursor=forged", headers=headers)).status_code == 422
    assert (await client.get("/api/v1/subscriptions?limit=0", headers=headers)).status_code == 422
    schema = (await client.get("/schema/openapi.json")).json()
    listed = schema["paths"]["/api/v1/subscriptions"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"limit", "cursor"}
    assert "search" in str(schema["components"]["schemas"]["SubscriptionIn"]["properties"])


async def test_the_catalogue_saves_its_search_and_alerts_read_in_plain_words(client):
    lena = await make_user("company_member")
    await client.post("/api/v1/subscriptions", json={"topics": ["mobility", "public safety"], "keywords": ["triage"]},
                      headers=await token_for(lena))
    anonymous = (await client.get("/challenges", params={"q": "bridge", "topic": "mobility"})).text
    assert 'href="/signin?next=%2Fchallenges%3Fq%3Dbridge%26topic%3Dmobility">Sign in to save this search as an alert' in anonymous
    await signed_in_client(client, lena)
    catalogue = await client.get("/challenges", params={"q": "bridge", "topic": "mobility", "min_budget": "10000"})
    assert "Save this search as an alert" in catalogue.text
    saved = await client.post("/subscriptions/search", data={"q": "bridge inspection", "topic": "mobility", "cpv": "",
                                                             "min_budget": "10000", "max_budget": "",
                                                             "_csrf_token": await csrf_token(client, "/challenges?q=bridge")})
    assert saved.status_code == 303
    stored = await Subscription.objects().where(Subscription.search.is_not_null()).first()
    assert '"min_budget": 1000000' in stored.search
    page = (await client.get("/subscriptions")).text
    assert "New challenges about mobility or public safety, or mentioning triage." in page
    assert "New challenges containing bridge and inspection, on the topic mobility, with a budget of at least €10,000.00." in page
    assert "“" not in page.split("Your alerts")[1]  # no raw quoted terms
    client.cookies.set("mp_lang", "fr")
    french = (await client.get("/subscriptions")).text
    assert "Nouveaux défis contenant bridge et inspection, sur le thème mobility" in french
    assert "Save this search as an alert" not in (await client.get("/challenges")).text  # nothing searched yet
