"""A problem statement's life: draft, completeness, approval and publication (now or at a date), with every bad input."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from marketplace.challenges.jobs import publish_due_challenges
from marketplace.challenges.tables import Challenge, ChallengeStage, ChallengeVersion
from marketplace.core.clock import now, rfc3339
from tests.factories import make_org, make_user, token_for
from tests.factories_challenges import COMPLETE, make_buyer_team, make_challenge

DRAFT = {**COMPLETE, "title": "Triage of 112 emergency calls at peak times", "budget_cap": {"amount": 2_500_000, "currency": "EUR"},
         "max_duration_days": 90, "procedure": {"template": "light"}}


async def _draft(client, team, body=None):
    response = await client.post("/api/v1/challenges", json=DRAFT if body is None else body, headers=await token_for(team.civil_servant))
    assert response.status_code == 201, response.text
    return response.json()


async def test_civil_servant_saves_an_empty_draft_that_only_the_team_sees(client):
    team = await make_buyer_team()
    draft = await _draft(client, team, {})
    assert draft["status"] == "draft" and draft["version"] == 1 and draft["stages"] == []
    assert draft["budget_cap"] == {"amount": 3_000_000, "currency": "EUR"}
    assert draft["buyer"]["id"] == str(team.org.id)
    assert (await client.get(f"/api/v1/challenges/{draft['id']}")).status_code == 404
    outsider = await make_user("civil_servant")
    assert (await client.get(f"/api/v1/challenges/{draft['id']}", headers=await token_for(outsider))).status_code == 404
    mine = await client.get(f"/api/v1/challenges/{draft['id']}", headers=await token_for(team.officer))
    assert mine.status_code == 200


async def test_draft_is_edited_then_published_now_with_stages_from_the_template(client):
    team = await make_buyer_team()
    draft = await _draft(client, team, {"title": "Triage"})
    patched = await client.patch(f"/api/v1/challenges/{draft['id']}", json={k: v for k, v in DRAFT.items() if k != "title"},
                                 headers=await token_for(team.civil_servant))
    assert patched.status_code == 200, patched.text
    assert patched.json()["cpv_codes"] == ["72212000-4"] and patched.json()["topics"] == ["public safety", "ai"]
    with time_machine.travel(now(), tick=False):
        published = await client.post(f"/api/v1/challenges/{draft['id']}/publish", headers=await token_for(team.officer))
        moment = now()
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "published" and body["version"] == 1
    assert body["current_stage"] == "expression_of_interest"
    assert [s["status"] for s in body["stages"]] == ["open", "pending", "pending"]
    first = body["stages"][0]
    # 21 days, closing at the next noon in Brussels (never at the second of publication)
    closes = datetime.fromisoformat(first["closes_at"])
    assert first["opens_at"] == rfc3339(moment) and timedelta(days=21) <= closes - moment < timedelta(days=22)
    assert closes.astimezone(ZoneInfo("Europe/Brussels")).strftime("%H:%M:%S") == "12:00:00"
    assert body["stages"][1]["opens_at"] == first["closes_at"]
    assert "Your idea in a nutshell" in first["asks"]
    assert body["qa_closes_at"] == rfc3339(closes - timedelta(days=2))
    public = await client.get(f"/api/v1/challenges/{draft['id']}")
    assert public.status_code == 200 and public.json()["status"] == "published"
    assert await ChallengeVersion.count().where(ChallengeVersion.challenge == draft["id"]) == 1
    again = await client.post(f"/api/v1/challenges/{draft['id']}/publish", headers=await token_for(team.officer))
    assert again.status_code == 409


async def test_publishing_an_incomplete_draft_names_every_missing_field_and_changes_nothing(client):
    team = await make_buyer_team()
    draft = await _draft(client, team, {"title": "Half a thought", "topics": ["mobility"]})
    response = await client.post(f"/api/v1/challenges/{draft['id']}/publish", headers=await token_for(team.officer))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["summary", "problem", "affected_users", "desired_outcomes", "cpv_codes"]
    row = await Challenge.select(Challenge.status).where(Challenge.id == draft["id"]).first()
    assert row["status"] == "draft"
    assert await ChallengeStage.count() == 0


async def test_bad_fields_are_refused_with_their_names(client):
    team = await make_buyer_team()
    headers = await token_for(team.civil_servant)
    cases = [
        ({"cpv_codes": ["72212000-5"]}, "cpv_codes[0]"),
        ({"cpv_codes": ["software"]}, "cpv_codes[0]"),
        ({"budget_cap": {"amount": 3_000_001, "currency": "EUR"}}, "budget_cap.amount"),
        ({"budget_cap": {"amount": 0, "currency": "EUR"}}, "budget_cap.amount"),
        ({"budget_cap": {"amount": 100, "currency": "USD"}}, "budget_cap.currency"),
        ({"procedure": {"template": "auction"}}, "procedure.template"),
        ({"schedule": [{"stage": "pitch", "closes_at": rfc3339(now() - timedelta(days=1))}]}, "schedule.pitch.closes_at"),
        ({"schedule": [{"stage": "hackathon", "closes_at": rfc3339(now() + timedelta(days=30))}]}, "schedule.hackathon"),
        ({"qa_closes_at": rfc3339(now() - timedelta(hours=1))}, "qa_closes_at"),
        ({"title": "x" * 201}, "title"),
        ({"owner": "me"}, "owner"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/challenges", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"][0]["field"] == field, (body, response.json())
    assert await Challenge.count() == 0


async def test_budget_cap_follows_the_body_ceiling(client):
    team = await make_buyer_team(await make_org("public_body", budget_ceiling_cents=14_000_000))
    draft = await _draft(client, team, {**DRAFT, "budget_cap": {"amount": 14_000_000, "currency": "EUR"}})
    assert draft["budget_cap"]["amount"] == 14_000_000


async def test_schedule_in_the_past_or_too_short_cannot_be_published(client, override_settings):
    override_settings(min_stage_open_days=10)
    team = await make_buyer_team()
    draft = await _draft(client, team, {**DRAFT, "schedule": [{"stage": "expression_of_interest", "closes_at": rfc3339(now() + timedelta(days=3))}]})
    response = await client.post(f"/api/v1/challenges/{draft['id']}/publish", headers=await token_for(team.officer))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "schedule.expression_of_interest.closes_at", "message": "leaves the stage open less than 10 days"}]
    override_settings(min_stage_open_days=0)
    ok = await client.post(f"/api/v1/challenges/{draft['id']}/publish", headers=await token_for(team.officer))
    assert ok.status_code == 200, ok.text
    past = await client.post(f"/api/v1/challenges/{(await _draft(client, team))['id']}/publish", json={"publish_at": rfc3339(now() - timedelta(minutes=1))},
                             headers=await token_for(team.officer))
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "publish_at"


async def test_publication_at_a_date_is_done_by_the_worker(client):
    team = await make_buyer_team()
    draft = await _draft(client, team)
    when = now() + timedelta(days=2)
    response = await client.post(f"/api/v1/challenges/{draft['id']}/publish", json={"publish_at": rfc3339(when)}, headers=await token_for(team.officer))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "scheduled"
    assert response.json()["stages"][0]["opens_at"] == rfc3339(when)
    assert (await client.get(f"/api/v1/challenges/{draft['id']}")).status_code == 404
    assert await publish_due_challenges() == 0
    with time_machine.travel(when + timedelta(minutes=1)):
        assert await publish_due_challenges() == 1
        assert await publish_due_challenges() == 0
    body = (await client.get(f"/api/v1/challenges/{draft['id']}")).json()
    assert body["status"] == "published" and body["stages"][0]["status"] == "open"


async def test_editing_a_scheduled_challenge_sends_it_back_to_draft(client):
    team = await make_buyer_team()
    draft = await _draft(client, team)
    await client.post(f"/api/v1/challenges/{draft['id']}/publish", json={"publish_at": rfc3339(now() + timedelta(days=1))}, headers=await token_for(team.officer))
    edited = await client.patch(f"/api/v1/challenges/{draft['id']}", json={"summary": "Sharper summary."}, headers=await token_for(team.civil_servant))
    assert edited.status_code == 200
    assert edited.json()["status"] == "draft" and edited.json()["stages"] == [] and edited.json()["publish_at"] is None


async def test_who_may_create_edit_and_publish(client):
    team = await make_buyer_team()
    draft = await _draft(client, team)
    company = await make_user("company_member")
    other_body = await make_buyer_team()
    assert (await client.post("/api/v1/challenges", json={})).status_code == 401
    assert (await client.post("/api/v1/challenges", json={}, headers=await token_for(company))).status_code == 403
    assert (await client.post("/api/v1/challenges", json={}, headers=await token_for(team.officer))).status_code == 403
    url = f"/api/v1/challenges/{draft['id']}"
    assert (await client.patch(url, json={"title": "x"})).status_code == 401
    assert (await client.patch(url, json={"title": "x"}, headers=await token_for(company))).status_code == 403
    assert (await client.patch(url, json={"title": "x"}, headers=await token_for(other_body.civil_servant))).status_code == 404
    assert (await client.post(url + "/publish")).status_code == 401
    assert (await client.post(url + "/publish", headers=await token_for(team.civil_servant))).status_code == 403
    assert (await client.post(url + "/publish", headers=await token_for(company))).status_code == 403
    assert (await client.post(url + "/publish", headers=await token_for(other_body.officer))).status_code == 404
    assert (await client.get("/api/v1/challenges/not-an-id")).status_code == 404
    assert (await Challenge.select(Challenge.title).where(Challenge.id == draft["id"]).first())["title"] == DRAFT["title"]


async def test_factory_builds_a_published_challenge_with_its_first_stage_open(client):
    challenge = await make_challenge(template="two-phase")
    body = (await client.get(f"/api/v1/challenges/{challenge.id}")).json()
    assert body["status"] == "published" and body["stages"][0]["status"] == "open"
    assert body["current_stage"] == body["stages"][0]["key"]


async def test_a_challenge_ends_without_award_with_a_public_reason_then_is_archived(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    url = f"/api/v1/challenges/{challenge.id}"
    follower = await make_user("company_member")
    await client.post(url + "/follow", headers=await token_for(follower))
    assert (await client.post(url + "/close", json={"reason": ""}, headers=await token_for(team.officer))).status_code == 422
    assert (await client.post(url + "/close", json={"reason": "No budget"}, headers=await token_for(team.civil_servant))).status_code == 403
    assert (await client.post(url + "/close", json={"reason": "No budget"}, headers=await token_for(follower))).status_code == 403
    assert (await client.post(url + "/close", json={"reason": "No budget"})).status_code == 401
    assert (await client.post(url + "/archive", headers=await token_for(team.civil_servant))).status_code == 409
    closed = await client.post(url + "/close", json={"reason": "The service is being reorganised."}, headers=await token_for(team.officer))
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    versions = (await client.get(url + "/versions")).json()["items"]
    assert versions[-1]["change_note"] == "Closed without award: The service is being reorganised."
    from marketplace.mail.tables import Notification

    assert await Notification.count().where((Notification.user == follower.id) & (Notification.kind == "challenge_closed")) == 1
    assert (await client.post(url + "/close", json={"reason": "again"}, headers=await token_for(team.officer))).status_code == 409
    assert (await client.post(url + "/archive", headers=await token_for(follower))).status_code == 403
    archived = await client.post(url + "/archive", headers=await token_for(team.civil_servant))
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert (await client.get(url)).status_code == 200


async def test_the_awards_domain_marks_a_challenge_awarded(client):
    from marketplace.challenges.services import mark_awarded

    challenge = await make_challenge()
    assert await mark_awarded(challenge.id) is True
    assert await mark_awarded(challenge.id) is False
    assert (await client.get(f"/api/v1/challenges/{challenge.id}")).json()["status"] == "awarded"
