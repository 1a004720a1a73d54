"""The readiness self-check: known answers give a known score per dimension and roadmap; the
comparison with other public bodies appears only once five have answered; progress is kept."""

from __future__ import annotations

from tests.factories import make_org, make_user, signed_in_client, token_for

# leadership 5,5 -> 100; budget 2,2 -> 25; legal 3,4 -> 63; data 1,1 -> 0; capacity 4,4 -> 75; failure 5,4 -> 88
KNOWN = {"sponsor": 5, "mandate": 5, "reserved": 2, "sign_off": 2, "procurement": 3, "rules": 4,
         "available": 1, "baseline": 1, "people": 4, "users": 4, "learning": 5, "publish": 4}


async def test_known_answers_give_known_scores_and_a_roadmap_for_the_weak_dimensions(client):
    servant = await make_user("civil_servant")
    headers = await token_for(servant)
    questionnaires = (await client.get("/api/v1/readiness/questionnaires", headers=headers)).json()
    assert [q["id"] for q in questionnaires["items"]] == ["readiness", "service"] and questionnaires["next_cursor"] is None
    readiness = questionnaires["items"][0]
    assert len(readiness["questions"]) == 12 and readiness["scale"][0] == "Strongly disagree"

    response = await client.post(f"/api/v1/organisations/{servant.org.id}/readiness", headers=headers,
                                 json={"questionnaire": "readiness", "answers": KNOWN})
    assert response.status_code == 201, response.text
    check = response.json()
    assert {d["key"]: d["score"] for d in check["dimensions"]} == {
        "leadership": 100, "budget": 25, "legal": 63, "data": 0, "capacity": 75, "failure": 88}
    assert check["total"] == 59
    assert [d["key"] for d in check["dimensions"] if d["weak"]] == ["budget", "data"]
    assert [s["dimension"] for s in check["roadmap"]] == ["budget", "budget", "data", "data"]
    assert any(s["link"] == "/api/v1/procedures/light" for s in check["roadmap"])
    assert check["comparison"] is None  # fewer than five public bodies answered


async def test_missing_and_unknown_answers_are_named_and_nothing_is_saved(client):
    servant = await make_user("civil_servant")
    headers = await token_for(servant)
    answers = {k: v for k, v in KNOWN.items() if k != "sponsor"} | {"invented": 3}
    response = await client.post(f"/api/v1/organisations/{servant.org.id}/readiness", headers=headers,
                                 json={"questionnaire": "readiness", "answers": answers})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"answers.sponsor", "answers.invented"}
    out_of_scale = await client.post(f"/api/v1/organisations/{servant.org.id}/readiness", headers=headers,
                                     json={"questionnaire": "readiness", "answers": KNOWN | {"sponsor": 6}})
    assert out_of_scale.status_code in (400, 422)
    service = await client.post(f"/api/v1/organisations/{servant.org.id}/readiness", headers=headers,
                                json={"questionnaire": "service", "answers": {}})
    assert "subject" in {e["field"] for e in service.json()["errors"]}
    history = (await client.get(f"/api/v1/organisations/{servant.org.id}/readiness", headers=headers)).json()
    assert history["items"] == []


async def test_only_the_bodys_own_staff_answer_or_read(client):
    servant = await make_user("civil_servant")
    other = await token_for(await make_user("civil_servant"))
    company = await token_for(await make_user("company_member"))
    evaluator = await token_for(await make_user("evaluator", org=servant.org))
    path = f"/api/v1/organisations/{servant.org.id}/readiness"
    body = {"questionnaire": "readiness", "answers": KNOWN}
    assert (await client.post(path, json=body)).status_code == 401
    assert (await client.post(path, headers=company, json=body)).status_code == 403
    assert (await client.post(path, headers=evaluator, json=body)).status_code == 403
    assert (await client.post(path, headers=other, json=body)).status_code == 404
    assert (await client.get(path, headers=other)).status_code == 404


async def test_the_anonymous_comparison_appears_from_five_public_bodies_and_progress_is_kept(client):
    servants = [await make_user("civil_servant", org=await make_org("public_body")) for _ in range(5)]
    for i, servant in enumerate(servants):
        answers = {k: (1 + i) for k in KNOWN}  # body i answers i+1 everywhere: scores 0, 25, 50, 75, 100
        last = await client.post(f"/api/v1/organisations/{servant.org.id}/readiness", headers=await token_for(servant),
                                 json={"questionnaire": "readiness", "answers": answers})
    comparison = last.json()["comparison"]
    assert comparison["organisations"] == 5 and comparison["median_total"] == 50
    assert set(comparison["median"].values()) == {50}

    first = servants[0]
    headers = await token_for(first)
    await client.post(f"/api/v1/organisations/{first.org.id}/readiness", headers=headers,
                      json={"questionnaire": "readiness", "answers": KNOWN})
    history = (await client.get(f"/api/v1/organisations/{first.org.id}/readiness", headers=headers)).json()["items"]
    assert [h["total"] for h in history] == [59, 0]  # newest first: the progress shows


async def test_a_civil_servant_takes_the_self_check_on_the_pages_in_french(client):
    from tests.factories import csrf_token

    servant = await make_user("civil_servant", locale="fr")
    await signed_in_client(client, servant)
    form_page = await client.get("/readiness/readiness", headers={"Accept-Language": "fr"})
    assert form_page.status_code == 200 and "Soutien de la direction" in form_page.text and "Tout à fait d" in form_page.text
    token = await csrf_token(client, "/readiness/readiness")
    partial = await client.post("/readiness/readiness", data={"_csrf_token": token, "sponsor": "5"})
    assert partial.status_code == 422 and 'id="f-mandate-error"' in partial.text
    data = {"_csrf_token": token, **{k: str(v) for k, v in KNOWN.items()}}
    saved = await client.post("/readiness/readiness", data=data)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/readiness/checks/")
    result = await client.get(saved.headers["location"].split("?")[0])
    assert result.status_code == 200 and "59" in result.text and "Autorité budgétaire" in result.text
    overview = await client.get("/readiness")
    assert overview.status_code == 200 and "/readiness/checks/" in overview.text


async def test_the_demo_shows_ghent_progressing_and_comparing_two_services(client):
    from marketplace.demo import DEMO_PASSWORD, load_demo

    await load_demo()
    await load_demo()  # idempotent
    tokens = await client.post("/api/v1/auth/tokens", json={"email": "pieter.desmet@gent.demo", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {tokens.json()['token']}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    ghent = next(m["organisation"]["id"] for m in me["memberships"] if m["role"] == "civil_servant")
    history = (await client.get(f"/api/v1/organisations/{ghent}/readiness?questionnaire=readiness", headers=headers)).json()
    assert len(history["items"]) == 2 and history["items"][0]["total"] > history["items"][1]["total"]
    services = (await client.get(f"/api/v1/organisations/{ghent}/readiness?questionnaire=service", headers=headers)).json()
    assert {s["subject"] for s in services["items"]} == {"Parking permits for residents", "Reporting a broken street light"}
