"""The design sprint's pitch to a jury, through the API with a frozen clock: four mixed teams go through the
five steps hours apart, book five-minute pitch slots, a jury of three named experts from other bodies and
countries scores live (one criterion at a time), the board ranks by the jury's totals, the buyer selects
three with feedback for every team, and one of them is awarded through the usual award path."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import time_machine

from marketplace.procedures import engine
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.factories import make_org, make_user, token_for
from tests.factories_contracts import award_body
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row
from tests.test_procedures_design_sprint import STEPS, register_team, submit_step

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
SPRINT = engine.latest("design-sprint")
PITCH = SPRINT.stage("pitch")


async def through_the_steps(client, challenge, traveller, teams):
    """Every team submits every step; each step closes a few hours later and the next opens at once."""
    traveller.move_to((await stage_row(challenge, "register"))["closes_at"])
    await advance_stage_deadlines()
    for key in STEPS:
        row = await stage_row(challenge, key)
        assert row["status"] == "open" and row["closes_at"] - row["opens_at"] < timedelta(hours=6), key
        for pid, h in teams:
            await submit_step(client, pid, h, key)
        traveller.move_to(row["closes_at"])
        await advance_stage_deadlines()


async def test_a_jury_of_three_scores_the_pitches_and_three_teams_are_selected_with_feedback_for_all(client):
    with time_machine.travel(T0, tick=False) as traveller:
        buyer = await make_org("public_body", name="Câmara Municipal de Lisboa")
        people = await make_buyer_team(buyer)
        civil, officer = await token_for(people["civil_servant"]), await token_for(people["procurement_officer"])
        challenge = await make_open_challenge(buyer, template="design-sprint", start=T0, gap_days=0,
                                              title="Civic participation with emerging technologies")
        teams = [await register_team(client, challenge) for _ in range(4)]
        for pid, h in teams:
            await submit_step(client, pid, h, "register")

        # The jury: named experts from other bodies and countries, each with an evaluator account of their own body.
        jurors = []
        for body, country in (("European Commission", "BE"), ("Gemeente Utrecht", "NL"), ("Ayuntamiento de Madrid", "ES")):
            person = await make_user("evaluator", org=await make_org("public_body", name=body))
            r = await client.post(f"/api/v1/challenges/{challenge.id}/jury", headers=civil,
                                  json={"email": person.email, "affiliation": body, "country": country})
            assert r.status_code == 201, r.text
            jurors.append(await token_for(person))
        r = await client.post(f"/api/v1/challenges/{challenge.id}/jury", headers=civil, json={"email": "not an address", "country": "XX"})
        assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"email", "country"}
        r = await client.get(f"/api/v1/challenges/{challenge.id}/jury", headers=jurors[0])
        assert sorted((j["affiliation"], j["country"]) for j in r.json()["items"]) == [
            ("Ayuntamiento de Madrid", "ES"), ("European Commission", "BE"), ("Gemeente Utrecht", "NL")]
        evaluator = await make_user("evaluator", org=buyer)
        await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=civil, json={"user_id": str(evaluator.id)})

        await through_the_steps(client, challenge, traveller, teams)
        pitch_row = await stage_row(challenge, "pitch")
        assert pitch_row["status"] == "open"

        # Five-minute pitch slots right after the stage closes; each team books one and sees it.
        first = pitch_row["closes_at"] + timedelta(minutes=30)
        r = await client.post(f"/api/v1/challenges/{challenge.id}/stages/pitch/pitch-slots", headers=civil, json={
            "slots": [{"starts_at": (first + i * timedelta(minutes=5)).isoformat(), "minutes": 5, "location": "Sala 1"} for i in range(4)],
            "timezone": "Europe/Lisbon"})
        assert r.status_code == 201, r.text
        slots = [s["id"] for s in r.json()["items"]]
        for (pid, h), slot in zip(teams, slots, strict=True):
            r = await client.post(f"/api/v1/pitch-slots/{slot}/choose", headers=h)
            assert r.status_code == 200 and r.json()["mine"] and r.json()["minutes"] == 5
            await submit_step(client, pid, h, "pitch")

        # Sealed until the deadline, even for the jury.
        r = await client.put(f"/api/v1/proposals/{teams[0][0]}/scores", headers=jurors[0],
                             json={"stage": "pitch", "scores": [{"criterion": "team", "value": 4}]})
        assert r.status_code in (404, 409)
        traveller.move_to(first)
        await advance_stage_deadlines()
        for h in (*jurors, await token_for(evaluator)):
            assert (await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=h,
                                      json={"has_conflict": False})).status_code == 201

        # Live scoring, one criterion at a time; no comment needed. The ordinary evaluator does not score pitches.
        r = await client.put(f"/api/v1/proposals/{teams[0][0]}/scores", headers=await token_for(evaluator),
                             json={"stage": "pitch", "scores": [{"criterion": "team", "value": 5, "justification": "Strong."}]})
        assert r.status_code == 409 and "Only the jury" in r.json()["detail"]
        levels = {teams[0][0]: 5, teams[1][0]: 2, teams[2][0]: 4, teams[3][0]: 3}
        for n, h in enumerate(jurors):
            for pid, level in levels.items():
                for c in PITCH.criteria:
                    r = await client.put(f"/api/v1/proposals/{pid}/scores", headers=h,
                                         json={"stage": "pitch", "scores": [{"criterion": c.key, "value": max(0, level - n % 2)}]})
                    assert r.status_code == 200, r.text
            assert r.json()["complete"] is True

        ranking = (await client.get(f"/api/v1/challenges/{challenge.id}/ranking?stage=pitch", headers=civil)).json()
        order = [i["proposal_id"] for i in ranking["items"]]
        assert order == [teams[0][0], teams[2][0], teams[3][0], teams[1][0]]
        assert all(i["evaluators"] == 3 and i["complete"] for i in ranking["items"])

        # The buyer selects three and writes feedback to every team; the close waits for the last feedback.
        for pid in order[:3]:
            r = await client.post(f"/api/v1/proposals/{pid}/decisions", headers=civil,
                                  json={"stage": "pitch", "outcome": "advance", "feedback": "The jury liked the prototype."})
            assert r.status_code == 201, r.text
        r = await client.post(f"/api/v1/proposals/{order[3]}/decisions", headers=civil,
                              json={"stage": "pitch", "outcome": "advance", "feedback": "Also good."})
        assert r.status_code == 409  # at most three
        r = await client.post(f"/api/v1/challenges/{challenge.id}/stages/pitch/close", headers=civil)
        assert r.status_code == 409 and r.json()["errors"] == [{"field": f"proposals.{order[3]}", "message": "has no decision with feedback"}]
        await client.post(f"/api/v1/proposals/{order[3]}/decisions", headers=civil,
                          json={"stage": "pitch", "outcome": "reject", "feedback": "Promising; the prototype needs users."})
        r = await client.post(f"/api/v1/challenges/{challenge.id}/stages/pitch/close", headers=civil)
        assert r.status_code == 200 and (r.json()["advanced"], r.json()["rejected"]) == (3, 1)
        for pid, h in teams:
            p = (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()
            assert p["stages"][-1]["decision"]["feedback"], pid
            assert p["status"] == ("selected" if pid in order[:3] else "rejected")

        # The selected go on to a paid experiment through the usual award path.
        r = await client.post(f"/api/v1/challenges/{challenge.id}/awards", headers=officer, json=award_body(SimpleNamespace(id=order[0])))
        assert r.status_code == 201, r.text
        assert (await client.get(f"/api/v1/proposals/{order[0]}", headers=teams[0][1])).json()["status"] == "awarded"


async def test_a_procedure_without_a_jury_refuses_jurors(client):
    buyer = await make_org("public_body")
    civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
    challenge = await make_open_challenge(buyer, template="light")
    person = await make_user("evaluator", org=buyer)
    r = await client.post(f"/api/v1/challenges/{challenge.id}/jury", headers=civil, json={"email": person.email})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "procedure"


async def test_the_jury_page_is_for_jurors_and_waits_for_the_deadline(app, client):
    from tests.test_proposals_pages import browser

    with time_machine.travel(T0, tick=False):
        buyer = await make_org("public_body")
        civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
        challenge = await make_open_challenge(buyer, template="design-sprint", start=T0, gap_days=0)
        juror = await make_user("evaluator", org=await make_org("public_body", name="European Commission"))
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/jury", headers=civil, json={"email": juror.email})).status_code == 201
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=await token_for(juror),
                                  json={"has_conflict": False})).status_code == 201
        evaluator = await make_user("evaluator", org=buyer)
        async with browser(app, juror) as c:
            page = await c.get(f"/challenges/{challenge.id}/jury")
            assert page.status_code == 200 and "The pitches open to the jury when the stage closes" in page.text
            board = await c.get(f"/challenges/{challenge.id}/board")
            assert f'href="/challenges/{challenge.id}/jury"' in board.text
        async with browser(app, evaluator) as c:
            assert (await c.get(f"/challenges/{challenge.id}/jury")).status_code == 404


async def test_an_expert_without_an_account_is_invited_by_e_mail_and_takes_the_jury_seat(app, client):
    import re

    import httpx

    from marketplace.mail.tables import OutboxMessage
    from tests.factories import csrf_token

    with time_machine.travel(T0, tick=False):
        buyer = await make_org("public_body", name="Câmara Municipal de Lisboa")
        civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
        challenge = await make_open_challenge(buyer, template="design-sprint", start=T0, gap_days=0)
        r = await client.post(f"/api/v1/challenges/{challenge.id}/jury", headers=civil,
                              json={"email": "Ana.Ribeiro@ec.europa.eu", "affiliation": "European Commission", "country": "pt"})
        assert r.status_code == 201, r.text
        assert (r.json()["invited"], r.json()["name"], r.json()["country"]) == (True, "ana.ribeiro@ec.europa.eu", "PT")
        again = await client.post(f"/api/v1/challenges/{challenge.id}/jury", headers=civil, json={"email": "ana.ribeiro@ec.europa.eu"})
        assert again.status_code == 409
        mail = await OutboxMessage.select().where(OutboxMessage.to_address == "ana.ribeiro@ec.europa.eu").first()
        assert mail["kind"] == "invitation" and "Câmara Municipal de Lisboa" in mail["subject"]
        token, proof = re.search(r"/invitations/([^?\s]+)\?proof=(\S+)", mail["body_text"]).groups()
        r = await client.post(f"/api/v1/invitations/{token}/accept",
                              json={"name": "Ana Ribeiro", "password": "a long enough passphrase", "proof": proof})
        assert r.status_code == 201, r.text

        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50003))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.post("/signin", data={"email": "ana.ribeiro@ec.europa.eu", "password": "a long enough passphrase",
                                               "next": "/evaluations", "_csrf_token": await csrf_token(c, "/signin")})
            assert r.status_code == 303, r.text
            page = await c.get("/evaluations")  # her seat is taken here
            assert challenge.title in page.text
        jury = (await client.get(f"/api/v1/challenges/{challenge.id}/jury", headers=civil)).json()["items"]
        assert [(j["name"], j["affiliation"], j["country"], j["invited"]) for j in jury] == [
            ("Ana Ribeiro", "European Commission", "PT", False)]
