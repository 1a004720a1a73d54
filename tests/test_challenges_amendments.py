"""Amending a published challenge: new public versions, deadlines only later, followers and bidders told."""

from datetime import timedelta

from marketplace.challenges.tables import Challenge, ChallengeStage, ChallengeVersion
from marketplace.core.clock import as_utc, rfc3339
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import make_user, token_for
from tests.factories_challenges import make_buyer_team, make_challenge


async def test_amendment_creates_a_public_version_and_tells_followers(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    follower = await make_user("company_member")
    assert (await client.post(f"/api/v1/challenges/{challenge.id}/follow", headers=await token_for(follower))).status_code == 200
    first = await ChallengeStage.objects().where((ChallengeStage.challenge == challenge.id) & (ChallengeStage.position == 0)).first()
    later = as_utc(first.closes_at) + timedelta(days=7)
    response = await client.patch(f"/api/v1/challenges/{challenge.id}", headers=await token_for(team.civil_servant), json={
        "summary": "Now also covering the German-speaking community.",
        "schedule": [{"stage": "expression_of_interest", "closes_at": rfc3339(later)}],
        "change_note": "Added German; one more week for expressions of interest.",
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["summary"].startswith("Now also")
    assert body["stages"][0]["closes_at"] == rfc3339(later)
    assert body["stages"][1]["opens_at"] == rfc3339(later)
    versions = (await client.get(f"/api/v1/challenges/{challenge.id}/versions")).json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["change_note"] == "Added German; one more week for expressions of interest."
    assert versions[0]["snapshot"]["summary"] != versions[1]["snapshot"]["summary"]
    assert await Notification.count().where((Notification.user == follower.id) & (Notification.kind == "challenge_amended")) == 1
    assert await OutboxMessage.count().where((OutboxMessage.to_address == follower.email) & (OutboxMessage.kind == "challenge_amended")) == 1


async def test_a_bidder_with_a_proposal_is_told_of_an_amendment_and_a_withdrawn_one_is_not(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    bidder = await make_user("company_member", locale="fr")
    withdrawn = await make_user("company_member")
    started = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=await token_for(bidder))
    assert started.status_code == 201, started.text
    gone = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=await token_for(withdrawn))
    assert (await client.post(f"/api/v1/proposals/{gone.json()['id']}/withdraw", headers=await token_for(withdrawn))).status_code == 200
    response = await client.patch(f"/api/v1/challenges/{challenge.id}", headers=await token_for(team.officer),
                                  json={"constraints": "Data stays in Belgium.", "change_note": "Data location."})
    assert response.status_code == 200, response.text
    told = await OutboxMessage.select().where(OutboxMessage.to_address == bidder.email)
    assert [m["kind"] for m in told] == ["challenge_amended"]
    assert "Data location." in told[0]["body_text"]
    assert await Notification.count().where((Notification.user == bidder.id) & (Notification.kind == "challenge_amended")) == 1
    assert await OutboxMessage.count().where(OutboxMessage.to_address == withdrawn.email) == 0


async def test_bad_amendments_change_nothing(client, override_settings):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    first = await ChallengeStage.objects().where((ChallengeStage.challenge == challenge.id) & (ChallengeStage.position == 0)).first()
    headers = await token_for(team.civil_servant)
    cases = [
        ({"summary": "No note"}, "change_note"),
        ({"summary": "x", "change_note": "   "}, "change_note"),
        ({"schedule": [{"stage": "expression_of_interest", "closes_at": rfc3339(as_utc(first.closes_at) - timedelta(days=1))}], "change_note": "Sooner"},
         "schedule.expression_of_interest.closes_at"),
        ({"procedure": {"template": "open-call"}, "change_note": "Simpler"}, "procedure"),
        ({"budget_cap": {"amount": 9_000_000, "currency": "EUR"}, "change_note": "More"}, "budget_cap.amount"),
        ({"cpv_codes": ["12345678-1"], "change_note": "CPV"}, "cpv_codes[0]"),
        ({"title": "", "change_note": "Empty"}, "title"),
        ({"qa_closes_at": rfc3339(as_utc(challenge.qa_closes_at) - timedelta(hours=1)), "change_note": "Sooner"}, "qa_closes_at"),
    ]
    for body, field in cases:
        response = await client.patch(f"/api/v1/challenges/{challenge.id}", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    row = await Challenge.objects().where(Challenge.id == challenge.id).first()
    assert row.version == 1 and row.summary == challenge.summary
    assert await ChallengeVersion.count().where(ChallengeVersion.challenge == challenge.id) == 1
    await Challenge.update({Challenge.status: "closed"}).where(Challenge.id == challenge.id)
    closed = await client.patch(f"/api/v1/challenges/{challenge.id}", json={"summary": "x", "change_note": "y"}, headers=headers)
    assert closed.status_code == 409


async def test_who_may_amend_and_read_versions(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    url = f"/api/v1/challenges/{challenge.id}"
    body = {"summary": "x", "change_note": "y"}
    assert (await client.patch(url, json=body)).status_code == 401
    assert (await client.patch(url, json=body, headers=await token_for(await make_user("company_member")))).status_code == 403
    assert (await client.patch(url, json=body, headers=await token_for(await make_user("civil_servant")))).status_code == 403
    assert (await client.patch(url, json=body, headers=await token_for(await make_user("evaluator", org=team.org)))).status_code == 403
    assert (await client.get(url + "/versions")).status_code == 200
    draft = await make_challenge(published=False)
    assert (await client.get(f"/api/v1/challenges/{draft.id}/versions")).status_code == 404
