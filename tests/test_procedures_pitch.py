"""Pitch scheduling at the `light` template's pitch stage: the buyer proposes slots, each selected team
picks one while the stage is open, both see it with its time zone and can import it (iCalendar)."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from marketplace.procedures import engine
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row
from tests.test_procedures_features import Pages
from tests.test_proposals_journey import advance_past, submit_valid

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LIGHT = engine.latest("light")
PITCH = LIGHT.stage("pitch")


async def test_buyer_proposes_slots_each_team_picks_one_and_both_see_it_in_their_calendar(client, app):
    travel = time_machine.travel(T0, tick=False)
    clock = travel.start()
    try:
        buyer = await make_org("public_body")
        people = await make_buyer_team(buyer)
        civil, officer = await token_for(people["civil_servant"]), await token_for(people["procurement_officer"])
        challenge = await make_open_challenge(buyer, template="light", start=T0, title="Faster triage, with a comma; and more")
        teams = []
        for _ in range(2):
            member = await make_user("company_member")
            h = await token_for(member)
            pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
            teams.append({"member": member, "h": h, "pid": pid})
        url = f"/api/v1/challenges/{challenge.id}/stages/pitch/pitch-slots"
        pitch_opens = (await stage_row(challenge, "pitch"))["opens_at"]
        slot_times = [pitch_opens + timedelta(days=3, hours=h) for h in (5, 6)]  # 13:00 and 14:00 UTC: 15:00 and 16:00 in Brussels
        # The buyer may prepare slots before the pitch stage opens, only for a stage that declares `pitch`.
        wrong = await client.post(f"/api/v1/challenges/{challenge.id}/stages/short_proposal/pitch-slots", headers=officer,
                                  json={"slots": [{"starts_at": slot_times[0].isoformat()}]})
        assert wrong.status_code == 409 and "does not allow pitch scheduling" in wrong.json()["detail"]
        bad = await client.post(url, headers=officer, json={"slots": [{"starts_at": "2026-01-01T10:00:00+01:00", "minutes": 2}],
                                                        "timezone": "Mars/Olympus"})
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"timezone", "slots[0].starts_at", "slots[0].minutes"}
        made = await client.post(url, headers=officer, json={
            "slots": [{"starts_at": t.isoformat(), "minutes": 30, "location": "Koningsstraat 1, Brussel"} for t in slot_times]})
        assert made.status_code == 201, made.text
        first, second = [s["id"] for s in made.json()["items"]]
        assert made.json()["items"][0]["local_start"] == slot_times[0].astimezone(ZoneInfo("Europe/Brussels")).isoformat()
        assert made.json()["items"][0]["local_start"].endswith(":00+02:00")  # Brussels summer time
        assert made.json()["items"][0]["timezone"] == "Europe/Brussels"

        # Both teams go through the first two stages; choosing before the pitch stage opens is refused.
        for spec in LIGHT.stages[:2]:
            for t in teams:
                await submit_valid(client, t["pid"], spec, t["h"])
            early = await client.post(f"/api/v1/pitch-slots/{first}/choose", headers=teams[0]["h"])
            assert early.status_code in (404, 409), "not at the pitch stage yet"
            await advance_past(client, challenge, clock, civil, teams[0]["pid"], spec, others=[t["pid"] for t in teams[1:]])
        assert (await stage_row(challenge, "pitch"))["status"] == "open"

        mine = await client.post(f"/api/v1/pitch-slots/{first}/choose", headers=teams[0]["h"])
        assert mine.status_code == 200 and mine.json()["mine"], mine.text
        taken = await client.post(f"/api/v1/pitch-slots/{first}/choose", headers=teams[1]["h"])
        assert taken.status_code == 409 and taken.json()["errors"] == [{"field": "slot", "message": "is taken"}]
        assert (await client.post(f"/api/v1/pitch-slots/{second}/choose", headers=teams[1]["h"])).status_code == 200
        # The second team sees only its own slot (no competitor's), the buyer sees who chose what.
        seen = (await client.get(url, headers=teams[1]["h"])).json()["items"]
        assert [s["id"] for s in seen] == [second] and seen[0]["company"] is None
        listed = (await client.get(url, headers=civil)).json()["items"]
        assert [s["company"]["id"] for s in listed] == [str(teams[0]["member"].org.id), str(teams[1]["member"].org.id)]

        # iCalendar for the team and the buyer; nobody else.
        ics = await client.get(f"/api/v1/pitch-slots/{first}/calendar.ics", headers=teams[0]["h"])
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        text = ics.content.decode()
        local_hm = slot_times[0].astimezone(ZoneInfo("Europe/Brussels")).strftime("%H:%M")
        start = slot_times[0].astimezone(UTC)  # the stage's dates follow the default 12:00 Brussels deadlines
        end = start + timedelta(minutes=30)
        assert f"\r\nDTSTART:{start:%Y%m%dT%H%M%S}Z\r\n" in text and f"\r\nDTEND:{end:%Y%m%dT%H%M%S}Z\r\n" in text
        assert "SUMMARY:Pitch: Faster triage\\, with a comma\\; and more" in text
        assert "Europe/Brussels" in text.replace("\r\n ", "") and all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        assert (await client.get(f"/api/v1/pitch-slots/{first}/calendar.ics", headers=civil)).status_code == 200
        assert (await client.get(f"/api/v1/pitch-slots/{first}/calendar.ics", headers=teams[1]["h"])).status_code == 404

        # The pages: the team sees its booking with the time zone; the buyer's page lists both.
        pages = Pages(app, teams[0]["member"], people["civil_servant"])
        proposal_page = await pages.get_page(teams[0]["member"], f"/proposals/{teams[0]['pid']}")
        booked = re.search(r"Your pitch is booked:.*?</p>", proposal_page, re.S).group(0)
        assert "Europe/Brussels" in booked and local_hm in booked and f"/api/v1/pitch-slots/{first}/calendar.ics" in booked
        buyer_page = await pages.get_page(people["civil_servant"], f"/challenges/{challenge.id}/stages/pitch/pitch")
        assert buyer_page.count("Add to calendar (.ics)") == 2
        board = await pages.get_page(people["civil_servant"], f"/challenges/{challenge.id}/board?stage=pitch")
        assert f"/challenges/{challenge.id}/stages/pitch/pitch" in board

        # After the deadline, no more choosing.
        clock.move_to((await stage_row(challenge, "pitch"))["closes_at"])
        assert (await client.post(f"/api/v1/pitch-slots/{second}/choose", headers=teams[1]["h"])).status_code == 409
    finally:
        travel.stop()
