"""In Chromium, a design sprint end to end: mixed teams register (one through the pages, naming its members),
the five steps hours apart (the sketch as an image), five-minute pitch slots booked and shown to the team, a
jury of three named on the board scores every pitch on a 390 px phone (one team at a time, a score per
criterion), the board ranks by the jury's totals, the civil servant selects three with feedback for every
team, and the procurement officer awards one of them."""

from datetime import UTC, datetime, timedelta

import time_machine

from marketplace.procedures import engine
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row
from tests.test_procedures_design_sprint import PNG, STEPS, register_team, submit_step

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}
SPRINT = engine.latest("design-sprint")
PITCH = SPRINT.stage("pitch")
STEP_TEXT = "We sat with the residents' council and wrote this together."


async def submit_by_page(founder, pid, key):
    """The team's stage form: every field typed, the sketch uploaded as an image, then submitted."""
    await founder.goto(f"/proposals/{pid}")
    spec = SPRINT.stage(key)
    if key == "sketch":
        await founder.set_input_files("#doc-sketches", files=[{"name": "wall.png", "mimeType": "image/png", "buffer": PNG}])
        await founder.get_by_role("button", name="Upload file").click()
        await founder.wait_for_selector("#doc-sketches-current")
    for f in spec.fields:
        await founder.fill(f"#f-{f.key}", "https://example.be/prototype" if f.type == "url" else STEP_TEXT)
    await founder.get_by_role("button", name="Submit this stage").click()
    await founder.wait_for_selector("text=Submitted. You can still edit and resubmit until the deadline.")


async def test_a_design_sprint_from_mixed_teams_to_a_jury_on_phones_and_an_award(new_page, client, override_settings):
    override_settings(standstill_days=0)
    with time_machine.travel(T0, tick=True) as clock:
        buyer = await make_org("public_body", name="Câmara Municipal de Lisboa")
        people = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, template="design-sprint", start=T0, gap_days=0,
                                              title="Civic participation with emerging technologies")
        civil_token = await token_for(people["civil_servant"])

        # One team registers through the pages, naming its mixed team; three more through the API.
        company = await make_org("company", name="CivicLab")
        lena = await make_user("company_member", org=company)
        founder = await new_page()
        await sign_in(founder, lena.email)
        await founder.goto(f"/challenges/{challenge.id}/propose")
        await founder.get_by_role("button", name="Start the proposal").click()
        await founder.wait_for_url("**/proposals/*")
        pid = founder.url.rsplit("/", 1)[-1].split("#")[0]
        for i, (name, organisation, kind, country) in enumerate((
                ("Lena Claes", "CivicLab", "company", "BE"), ("Rui Costa", "Universidade de Lisboa", "university", "PT"),
                ("Eva de Vries", "Buurtwerk Utrecht", "civil_society", "NL"))):
            if i == 2:  # two empty rows come back after each save
                await founder.get_by_role("button", name="Save the team").click()
                await founder.wait_for_selector("text=Your team is saved.")
            group = founder.get_by_role("group", name=f"Member {i + 1}")
            await group.get_by_label("Name").fill(name)
            await group.get_by_label("Organisation", exact=True).fill(organisation)
            await group.get_by_label("Kind of organisation").select_option(kind)
            await group.get_by_label("Country").fill(country)
        await founder.get_by_role("button", name="Save the team").click()
        await founder.wait_for_selector("text=Your team is saved.")
        await assert_accessible(founder)
        await submit_by_page(founder, pid, "register")
        teams = {pid: None}
        for _ in range(3):
            other, h = await register_team(client, challenge)
            await submit_step(client, other, h, "register")
            teams[other] = h

        # The five steps, a few hours each: the next opens as soon as the previous one closes.
        clock.move_to((await stage_row(challenge, "register"))["closes_at"])
        await advance_stage_deadlines()
        await sign_in(founder, lena.email)  # two weeks later: a new session
        for key in STEPS:
            row = await stage_row(challenge, key)
            assert row["status"] == "open" and row["closes_at"] - row["opens_at"] <= timedelta(hours=6), key
            await submit_by_page(founder, pid, key)
            for other, h in teams.items():
                if h is not None:
                    await submit_step(client, other, h, key)
            clock.move_to(row["closes_at"])
            await advance_stage_deadlines()

        # Pitch slots of five minutes right after the stage closes; the team books one and sees it.
        pitch_row = await stage_row(challenge, "pitch")
        first = pitch_row["closes_at"] + timedelta(minutes=30)
        r = await client.post(f"/api/v1/challenges/{challenge.id}/stages/pitch/pitch-slots", headers=civil_token, json={
            "slots": [{"starts_at": (first + i * timedelta(minutes=5)).isoformat(), "minutes": 5, "location": "Sala 1"} for i in range(4)],
            "timezone": "Europe/Lisbon"})
        assert r.status_code == 201, r.text
        slots = [s["id"] for s in r.json()["items"]]
        await founder.goto(f"/challenges/{challenge.id}")  # (a new document: not only the fragment changes)
        await founder.goto(f"/proposals/{pid}#pitch")
        await founder.get_by_role("button", name="Choose this slot").first.click()
        await founder.wait_for_selector("text=Your pitch is booked:")
        assert "5 minutes" in await founder.locator("#pitch").inner_text()
        for slot, (other, h) in zip(slots[1:], [(o, h) for o, h in teams.items() if h is not None], strict=True):
            assert (await client.post(f"/api/v1/pitch-slots/{slot}/choose", headers=h)).status_code == 200
            await submit_step(client, other, h, "pitch")
        await submit_by_page(founder, pid, "pitch")
        order = [pid, *[o for o, h in teams.items() if h is not None]]  # the pitch order: slot by slot

        # The civil servant names a jury of three experts from other bodies and countries.
        civil = await new_page()
        await sign_in(civil, people["civil_servant"].email)
        jurors = []
        for body, country in (("European Commission", "BE"), ("Gemeente Utrecht", "NL"), ("Ayuntamiento de Madrid", "ES")):
            person = await make_user("evaluator", org=await make_org("public_body", name=body))
            await civil.goto(f"/challenges/{challenge.id}/board")
            await civil.get_by_label("Name a juror (e-mail address)").fill(person.email)
            await civil.get_by_label("Their organisation").fill(body)
            await civil.locator("#f-juror-country").fill(country)
            await civil.get_by_role("button", name="Name the juror").click()
            await civil.wait_for_selector("text=Juror named.")
            jurors.append(person)
        assert "Ayuntamiento de Madrid" in await civil.locator("#jury").inner_text()
        await assert_accessible(civil)

        # After the deadline the jury scores live, each on a phone: one team at a time, a tap and a save per criterion.
        clock.move_to(first)
        await advance_stage_deadlines()
        levels = dict(zip(order, (4, 2, 5, 3), strict=True))
        for n, person in enumerate(jurors):
            phone = await new_page()
            await phone.set_viewport_size(PHONE)
            await sign_in(phone, person.email)
            await phone.goto(f"/challenges/{challenge.id}/declaration")
            await phone.get_by_label("No, I have no conflict of interest").check()
            await phone.get_by_role("button", name="Declare").click()
            await phone.wait_for_url("**/board**")
            await phone.get_by_role("link", name="Score the pitches").click()
            await phone.wait_for_url("**/jury**")
            for team in order:
                await phone.goto(f"/challenges/{challenge.id}/jury?proposal={team}")
                for c in PITCH.criteria:
                    value = max(0, levels[team] - n % 2)
                    form = phone.locator(f"#c-{c.key}")
                    target = form.locator(f"label[for='c-{c.key}-{value}']")
                    box = await target.bounding_box()
                    assert box["width"] >= 44 and box["height"] >= 44, box  # a touch target
                    await target.click()
                    await form.get_by_role("button").click()
                    await phone.wait_for_selector(f"#c-{c.key} .tag:has-text('{value} of {c.scale_max}')")
                if team == order[0] and n == 0:
                    guidance = phone.locator("#c-team-5-guidance")  # what a 5 means, next to the scale
                    assert "A mixed team with the skills" in await guidance.inner_text()
                    assert await phone.locator("#c-team-5").get_attribute("aria-describedby") == "c-team-5-guidance"
                    assert await phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
                    await assert_accessible(phone)
            assert (await phone.locator(".jury-teams").inner_text()).count("scored") == 4

        # The board ranks by the jury's totals; three are selected, every team gets feedback, the stage closes.
        await civil.goto(f"/challenges/{challenge.id}/board?stage=pitch")
        rows = civil.locator("main table").first.locator("tbody tr")
        ranked = [await rows.nth(i).locator("a").get_attribute("href") for i in range(4)]
        assert ranked == [f"/proposals/{order[i]}" for i in (2, 0, 3, 1)], ranked
        for i, href in enumerate(ranked):
            await civil.goto(href)
            await civil.get_by_label("Advance" if i < 3 else "Reject").check()
            await civil.get_by_label("Written feedback for the company").fill(
                "The jury valued the prototype with residents." if i < 3 else "Promising; test it with residents first.")
            await civil.get_by_role("button", name="Save the decision").click()
            await civil.wait_for_selector("text=Decision saved.")
        await civil.get_by_label("I confirm that the decisions are final and every company may be told").check()
        await civil.get_by_role("button", name="Close the stage and tell every company").click()
        await civil.wait_for_selector("text=Stage closed: 3 advanced, 1 not selected.")
        for team in order:
            p = (await client.get(f"/api/v1/proposals/{team}", headers=civil_token)).json()
            assert p["stages"][-1]["decision"]["feedback"], team

        # One of the three selected is awarded through the usual award path.
        officer = await new_page()
        await sign_in(officer, people["procurement_officer"].email)
        await officer.goto(f"/challenges/{challenge.id}/award")
        await officer.get_by_label("Proposal").select_option(order[2])
        await officer.get_by_label("Price excluding VAT, in euros").fill("20000")
        for n, (title, amount, days) in enumerate((("Prototype with residents", "12000", 30), ("Pilot", "8000", 60)), 1):
            group = officer.get_by_role("group", name=f"Milestone {n}")
            await group.get_by_label("Title").fill(title)
            await group.get_by_label("Amount in euros").fill(amount)
            await group.get_by_label("Due date").fill((datetime.now(UTC) + timedelta(days=days)).date().isoformat())
            await group.get_by_label("Deliverable").fill(f"{title}: a report")
        await officer.get_by_role("button", name="Award", exact=True).click()
        await officer.wait_for_url("**/awards/**")
        p = (await client.get(f"/api/v1/proposals/{order[2]}", headers=teams[order[2]])).json()
        assert p["status"] == "awarded"
