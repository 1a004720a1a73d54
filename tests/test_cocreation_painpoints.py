"""Citizens' pain points: a call opened while drafting, entries from anyone along the user journey,
support, moderation, a pain point quoted (with consent) into the problem statement, and the report
back shown publicly once the call has closed."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from marketplace.challenges.tables import Challenge
from marketplace.core.clock import now, rfc3339
from tests.factories import token_for
from tests.factories_challenges import make_buyer_team, make_draft

STEPS = ["Find the form", "Fill it in", "Wait for the permit"]


async def _call(client):
    team = await make_buyer_team()
    draft = await make_draft(team.org, title="Parking permits for residents", problem="Residents wait for permits.")
    team_headers = await token_for(team.civil_servant)
    opened = await client.post(f"/api/v1/challenges/{draft.id}/pain-point-call", headers=team_headers, json={
        "intro": "Where does getting a parking permit go wrong for you?", "steps": STEPS,
        "closes_at": rfc3339(now() + timedelta(days=14))})
    assert opened.status_code == 201, opened.text
    return team, draft, team_headers


async def test_a_pain_point_reaches_the_problem_statement(client):
    team, draft, team_headers = await _call(client)
    path = f"/api/v1/challenges/{draft.id}/pain-points"
    wait = await client.post(path, json={"step": "Wait for the permit", "text": "I waited six weeks and could not park.",
                                         "consent_to_quote": True, "name": "Ann"})
    assert wait.status_code == 201, wait.text
    private = await client.post(path, json={"step": "Fill it in", "text": "The form asks for my car twice."})
    idea = await client.post(path, json={"kind": "idea", "text": "Send the permit by e-mail the same day."})
    assert private.status_code == idea.status_code == 201
    no_step = await client.post(path, json={"text": "It is all bad."})
    assert no_step.status_code == 422 and no_step.json()["errors"][0]["field"] == "step"
    assert (await client.post(path, json={"step": "Elsewhere", "text": "?"})).status_code == 422

    for _ in range(2):
        supported = await client.post(f"/api/v1/pain-points/{wait.json()['id']}/support")
    assert supported.json()["supports"] == 1  # once per sender

    grouped = (await client.get(path, headers=team_headers)).json()
    assert [g["step"] for g in grouped["steps"]] == STEPS
    assert [e["text"] for e in grouped["steps"][2]["entries"]] == ["I waited six weeks and could not park."]
    assert [e["text"] for e in grouped["ideas"]] == ["Send the permit by e-mail the same day."]
    assert (await client.get(path)).status_code == 401  # the grouped view is the team's

    refused = await client.post(f"/api/v1/pain-points/{private.json()['id']}/quote", headers=team_headers)
    assert refused.status_code == 409  # no consent to quote
    quoted = await client.post(f"/api/v1/pain-points/{wait.json()['id']}/quote", headers=team_headers)
    assert quoted.status_code == 200
    problem = (await Challenge.select(Challenge.problem).where(Challenge.id == draft.id).first())["problem"]
    assert problem.startswith("Residents wait for permits.") and "“I waited six weeks and could not park.” (Wait for the permit)" in problem


async def test_moderation_report_back_and_floods(client):
    team, draft, team_headers = await _call(client)
    path = f"/api/v1/challenges/{draft.id}/pain-points"
    abuse = (await client.post(path, json={"step": "Fill it in", "text": "Insults."})).json()
    good = (await client.post(path, json={"kind": "idea", "text": "Pre-fill the form from the car register."})).json()
    assert (await client.post(f"/api/v1/pain-points/{abuse['id']}/hide", headers=team_headers,
                              json={"reason": "Insulting"})).status_code == 200
    public = (await client.get(f"/api/v1/challenges/{draft.id}/pain-point-call")).json()
    assert [e["text"] for e in public["entries"]] == ["Pre-fill the form from the car register."]
    assert "response" not in public["entries"][0]  # not before the call closes
    team_view = (await client.get(path, headers=team_headers)).json()
    assert any(e["hidden"] and e["hidden_reason"] == "Insulting" for e in team_view["items"])  # kept for the record

    assert (await client.post(f"/api/v1/pain-points/{good['id']}/report-back", headers=team_headers,
                              json={"response": "not_taken_up"})).status_code == 422  # a reason is needed
    assert (await client.post(f"/api/v1/pain-points/{good['id']}/report-back", headers=team_headers, json={
        "response": "not_taken_up", "reason": "The car register cannot be shared with the city."})).status_code == 200

    for n in range(3):  # 2 entries already from this sender: 5 an hour
        assert (await client.post(path, json={"kind": "idea", "text": f"Idea {n}"})).status_code == 201
    flood = await client.post(path, json={"kind": "idea", "text": "One more"})
    assert flood.status_code == 429 and flood.headers["retry-after"]

    with time_machine.travel(now() + timedelta(days=15)):
        closed = (await client.get(f"/api/v1/challenges/{draft.id}/pain-point-call")).json()
        assert closed["open"] is False
        answered = next(e for e in closed["entries"] if e["text"].startswith("Pre-fill"))
        assert answered["response"] == "not_taken_up" and "car register" in answered["response_reason"]
        assert (await client.post(path, json={"kind": "idea", "text": "Late"})).status_code == 409


async def test_only_the_team_opens_a_call_and_strangers_cannot_moderate(client):
    team, draft, team_headers = await _call(client)
    from tests.factories import make_user

    stranger = await token_for(await make_user("civil_servant"))
    assert (await client.post(f"/api/v1/challenges/{draft.id}/pain-point-call", headers=stranger, json={
        "intro": "x", "steps": ["a"], "closes_at": rfc3339(now() + timedelta(days=1))})).status_code == 404
    entry = (await client.post(f"/api/v1/challenges/{draft.id}/pain-points", json={"kind": "idea", "text": "Hi"})).json()
    assert (await client.post(f"/api/v1/pain-points/{entry['id']}/hide", headers=stranger, json={"reason": "x"})).status_code == 404


async def test_a_resident_contributes_on_the_page_and_the_civil_servant_quotes_it(client):
    from tests.factories import csrf_token, signed_in_client

    team, draft, _team_headers = await _call(client)
    page = await client.get(f"/challenges/{draft.id}/pain-points", headers={"Accept-Language": "nl"})
    assert page.status_code == 200 and "Wait for the permit" in page.text
    token = await csrf_token(client, f"/challenges/{draft.id}/pain-points")
    empty = await client.post(f"/challenges/{draft.id}/pain-points", data={"_csrf_token": token, "kind": "pain_point",
                                                                           "step": "Fill it in", "text": ""})
    assert empty.status_code == 422 and 'id="f-text-error"' in empty.text
    sent = await client.post(f"/challenges/{draft.id}/pain-points", data={
        "_csrf_token": token, "kind": "pain_point", "step": "Fill it in", "text": "The form times out after 5 minutes.",
        "consent_to_quote": "yes"})
    assert sent.status_code == 303
    assert "The form times out after 5 minutes." in (await client.get(f"/challenges/{draft.id}/pain-points")).text

    servant = await signed_in_client(client, team.civil_servant)
    manage = await servant.get(f"/challenges/{draft.id}/pain-points/manage")
    assert manage.status_code == 200 and "The form times out after 5 minutes." in manage.text
    entry_id = manage.text.split('action="/pain-points/')[1].split("/")[0]
    token = await csrf_token(servant, f"/challenges/{draft.id}/pain-points/manage")
    quoted = await servant.post(f"/pain-points/{entry_id}/manage", data={"_csrf_token": token, "challenge_id": str(draft.id),
                                                                         "action": "quote"})
    assert quoted.status_code == 303
    problem = (await Challenge.select(Challenge.problem).where(Challenge.id == draft.id).first())["problem"]
    assert "“The form times out after 5 minutes.” (Fill it in)" in problem
