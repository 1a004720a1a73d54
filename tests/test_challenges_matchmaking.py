"""Matchmaking: subscribers hear once about matching new challenges; follows; co-sponsors."""

from datetime import timedelta

import time_machine

from marketplace.challenges.matchmaking import send_match_digests
from marketplace.challenges.tables import CoSponsor, Follow, MatchNotice, Subscription
from marketplace.core.clock import now
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import make_org, make_user, token_for
from tests.factories_challenges import make_buyer_team, make_draft, publish_through_api


async def test_subscribers_are_told_once_in_app_and_by_one_digest(client):
    team = await make_buyer_team()
    lena = await make_user("company_member")
    headers = await token_for(lena)
    for body in ({"topics": ["Public Safety"]}, {"cpv_prefixes": ["7221"], "keywords": ["triage"]}):
        assert (await client.post("/api/v1/subscriptions", json=body, headers=headers)).status_code == 201
    other = await make_user("company_member")
    await client.post("/api/v1/subscriptions", json={"keywords": ["bicycle"]}, headers=await token_for(other))

    first = await publish_through_api(client, team, title="Triage of 112 calls", topics=["public safety"], cpv_codes=["72212000-4"])
    second = await publish_through_api(client, team, title="Smarter triage of complaints", topics=["administration"], cpv_codes=["79000000-4"])
    await publish_through_api(client, team, title="Road works", topics=["mobility"], cpv_codes=["45000000-7"], problem="Potholes.",
                   summary="Roads.", desired_outcomes="Smooth roads.")
    notices = await MatchNotice.select(MatchNotice.challenge).where(MatchNotice.user == lena.id)
    assert {n["challenge"] for n in notices} == {first.id, second.id}
    assert await Notification.count().where((Notification.user == lena.id) & (Notification.kind == "challenge_match")) == 2
    assert await MatchNotice.count().where(MatchNotice.user == other.id) == 0

    assert await send_match_digests() == 0  # the digest waits an hour to gather more
    with time_machine.travel(now() + timedelta(hours=1, seconds=1)):
        assert await send_match_digests() == 1
        assert await send_match_digests() == 0
    digest = await OutboxMessage.objects().where(OutboxMessage.kind == "challenge_digest").first()
    assert digest.to_address == lena.email
    assert "Triage of 112 calls" in digest.body_text and "Smarter triage of complaints" in digest.body_text


async def test_subscriptions_api_and_bad_input(client):
    member = await make_user("incubator_member")
    headers = await token_for(member)
    for body, field in (({}, "topics"), ({"cpv_prefixes": ["7"]}, "cpv_prefixes[0]"), ({"cpv_prefixes": ["72x"]}, "cpv_prefixes[0]"),
                        ({"topics": ["a"], "colour": "red"}, "colour")):
        response = await client.post("/api/v1/subscriptions", json=body, headers=headers)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text
    assert await Subscription.count() == 0
    created = (await client.post("/api/v1/subscriptions", json={"topics": ["ai"]}, headers=headers)).json()
    assert [s["id"] for s in (await client.get("/api/v1/subscriptions", headers=headers)).json()["items"]] == [created["id"]]
    stranger = await token_for(await make_user("company_member"))
    assert (await client.delete(f"/api/v1/subscriptions/{created['id']}", headers=stranger)).status_code == 404
    assert (await client.delete(f"/api/v1/subscriptions/{created['id']}", headers=headers)).status_code == 204
    assert (await client.post("/api/v1/subscriptions", json={"topics": ["ai"]})).status_code == 401
    assert (await client.post("/api/v1/subscriptions", json={"topics": ["ai"]}, headers=await token_for(await make_user("civil_servant")))).status_code == 403


async def test_follow_and_unfollow(client):
    team = await make_buyer_team()
    challenge = await publish_through_api(client, team)
    member = await make_user("company_member")
    url = f"/api/v1/challenges/{challenge.id}/follow"
    for _ in range(2):
        assert (await client.post(url, headers=await token_for(member))).json() == {"challenge_id": str(challenge.id), "following": True}
    assert await Follow.count() == 1
    assert (await client.delete(url, headers=await token_for(member))).status_code == 204
    assert await Follow.count() == 0
    assert (await client.post(url)).status_code == 401
    draft = await make_draft(team.org)
    assert (await client.post(f"/api/v1/challenges/{draft.id}/follow", headers=await token_for(member))).status_code == 404


async def test_another_public_body_co_sponsors_and_is_shown(client):
    team = await make_buyer_team()
    challenge = await publish_through_api(client, team)
    ghent = await make_org("public_body", name="City of Ghent")
    pieter = await make_user("civil_servant", org=ghent)
    url = f"/api/v1/challenges/{challenge.id}/co-sponsors"
    response = await client.post(url, json={"statement": "Our dispatch has the same peaks."}, headers=await token_for(pieter))
    assert response.status_code == 201, response.text
    assert response.json()[0]["organisation"]["name"] == "City of Ghent"
    shown = (await client.get(f"/api/v1/challenges/{challenge.id}")).json()["co_sponsors"]
    assert shown[0]["statement"] == "Our dispatch has the same peaks."
    assert await Follow.count().where(Follow.user == pieter.id) == 1
    assert (await client.post(url, json={}, headers=await token_for(pieter))).status_code == 409
    assert (await client.post(url, json={}, headers=await token_for(team.civil_servant))).status_code == 409
    assert (await client.post(url, json={}, headers=await token_for(await make_user("company_member")))).status_code == 403
    assert (await client.post(url, json={})).status_code == 401
    assert await CoSponsor.count() == 1
    page = await client.get(f"/challenges/{challenge.id}")
    assert "City of Ghent" in page.text


async def test_who_may_follow_and_list_subscriptions(client):
    team = await make_buyer_team()
    challenge = await publish_through_api(client, team)
    evaluator = await make_user("evaluator", org=team.org)
    assert (await client.post(f"/api/v1/challenges/{challenge.id}/follow", headers=await token_for(evaluator))).status_code == 403
    assert (await client.delete(f"/api/v1/challenges/{challenge.id}/follow")).status_code == 401
    assert (await client.get("/api/v1/subscriptions")).status_code == 401
    assert (await client.get("/api/v1/subscriptions", headers=await token_for(team.civil_servant))).status_code == 403
    assert (await client.delete("/api/v1/subscriptions/x", headers=await token_for(team.civil_servant))).status_code == 403
