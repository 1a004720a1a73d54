"""The design-sprint template and what the engine gained for it: short stages counted in hours (a two-day
event) with the template's own minimum, `continue` steps that move every team that submitted on at the
deadline, and the `team` feature (named members of a mixed team, editable while such a stage is open)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace.challenges import rules
from marketplace.procedures import engine
from marketplace.procedures.engine import TemplateError, parse_template
from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row, valid_answers

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SPRINT = engine.latest("design-sprint")
STEPS = ("align", "ideate", "sketch", "refine", "prototype")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MIXED = [{"name": "An Peeters", "organisation": "CivicLab", "kind": "company", "country": "BE"},
         {"name": "Rui Costa", "organisation": "Universidade de Lisboa", "kind": "university", "country": "PT"},
         {"name": "Eva de Vries", "organisation": "Buurtwerk Utrecht", "kind": "civil_society", "country": "NL"}]

SHORT = """
id = "short"
version = 1
{min}
name = {{en = "Short", fr = "Court", nl = "Kort"}}

[[stages]]
key = "step"
name = {{en = "Step", fr = "Étape", nl = "Stap"}}
{duration}
decision = "{decision}"
features = {features}
{extra}

[[stages]]
key = "final"
name = {{en = "Final", fr = "Finale", nl = "Finale"}}
duration_days = 10
decision = "award"
max_selected = 1
  [[stages.criteria]]
  key = "team"
  name = {{en = "Team", fr = "Équipe", nl = "Team"}}
  weight = 1
"""


def short(min="min_stage_open_hours = 2", duration="duration_hours = 3", decision="continue", features='["team"]', extra=""):
    return SHORT.format(min=min, duration=duration, decision=decision, features=features, extra=extra)


def test_the_design_sprint_registers_teams_then_five_short_steps_then_a_pitch_to_a_jury():
    assert SPRINT.stage_keys == ["register", *STEPS, "pitch"]
    assert SPRINT.min_stage_open_hours == 1
    register, pitch = SPRINT.stage("register"), SPRINT.stage("pitch")
    assert (register.duration, register.team_min_members, register.team_mixed) == (timedelta(days=14), 2, True)
    assert all(SPRINT.stage(k).duration_hours and SPRINT.stage(k).decision == "continue" for k in STEPS)
    assert {d.key: d.types for d in SPRINT.stage("sketch").documents} == {"sketches": ("png", "jpg", "pdf")}
    assert {"what", "for_whom", "needs", "link"} <= {f.key for f in SPRINT.stage("prototype").fields}
    assert (pitch.decision, pitch.max_selected, pitch.panel, "pitch" in pitch.features) == ("award", 3, "jury", True)
    for stage in SPRINT.stages:  # every text in three languages
        assert all(stage.name.local(lang) for lang in ("en", "fr", "nl"))


def test_a_short_template_parses_and_its_stages_close_on_the_hour():
    t = parse_template(short(), "short.toml")
    assert t.stage("step").duration == 3 * HOUR and t.stage("step").duration_days == 0
    assert t.min_open(default_days=10) == 2 * HOUR
    start = datetime(2026, 10, 5, 8, 20, tzinfo=UTC)
    planned = engine.schedule(t, start)
    assert planned[0].closes_at == datetime(2026, 10, 5, 12, 0, tzinfo=UTC)  # 11:20 rounded up to the hour
    # a template without its own minimum keeps the platform's, in days
    assert engine.latest("light").min_open(default_days=10) == timedelta(days=10)


@pytest.mark.parametrize(("text", "message"), [
    (short(min=""), "stage `step`: a stage in `duration_hours` needs the template's `min_stage_open_hours`"),
    (short(min="min_stage_open_hours = 4"), "stage `step`: `duration_hours` is shorter than the template's `min_stage_open_hours` (4)"),
    (short(duration="duration_hours = 3\nduration_days = 2"), "stage `step`: give `duration_days` or `duration_hours`, not both"),
    (short(duration="duration_hours = 0"), "stage `step`: `duration_hours` must be a positive whole number"),
    (short(extra="max_selected = 2"), "`max_selected` must be left out when `decision` is `continue`"),
    (short(features="[]", extra="team_mixed = true"), "`team_min_members` and `team_mixed` need \"team\" in `features`"),
    (short(extra='panel = "crowd"'), "stage `step`: `panel` must be one of evaluators, jury"),
    (short(extra='panel = "jury"'), "`panel = \"jury\"` needs `[[stages.criteria]]`"),
    (short(extra='require_one_of = ["link", "photos"]'), "`require_one_of` names `link`, which is neither a field nor a document"),
    (short(extra='require_one_of = "link"'), "`require_one_of` must list at least two field or document keys"),
])
def test_a_broken_short_template_is_refused_naming_the_stage_and_the_field(text, message):
    with pytest.raises(TemplateError) as caught:
        parse_template(text, "short.toml")
    assert any(message in e for e in caught.value.errors), caught.value.errors


def test_stage_deadlines_hours_apart_pass_with_the_templates_minimum_and_fail_with_the_platforms():
    moment = T0
    closes = {key: T0 + timedelta(days=14) + (i + 1) * 3 * HOUR for i, key in enumerate(SPRINT.stage_keys) if key != "register"}
    closes["register"] = T0 + timedelta(days=14)
    _stages, errors = rules.plan_stages(SPRINT, T0, closes, moment, min_days=10)
    assert errors == []
    closes["ideate"] = closes["align"] + HOUR / 2  # half an hour: less than the template's hour
    _stages, errors = rules.plan_stages(SPRINT, T0, closes, moment, min_days=10)
    assert [(e.field, e.message) for e in errors] == [("schedule.ideate.closes_at", "leaves the stage open less than 1 hours")]
    light = engine.latest("light")
    hours_apart = {"expression_of_interest": T0 + timedelta(days=14), "short_proposal": T0 + timedelta(days=14, hours=3)}
    _stages, errors = rules.plan_stages(light, T0, hours_apart, moment, min_days=10)
    assert ("schedule.short_proposal.closes_at", "leaves the stage open less than 10 days") in [(e.field, e.message) for e in errors]


async def submit_step(client, pid, h, key):
    """A team submits a stage of the sprint through the API (the sketch with its image)."""
    if key == "sketch":
        r = await client.post(f"/api/v1/proposals/{pid}/stages/sketch/documents/sketches", headers=h,
                              files={"file": ("wall.png", PNG, "image/png")})
        assert r.status_code == 201, r.text
    await client.put(f"/api/v1/proposals/{pid}/stages/{key}", headers=h, json={"answers": valid_answers(SPRINT.stage(key))})
    r = await client.post(f"/api/v1/proposals/{pid}/stages/{key}/submit", headers=h)
    assert r.status_code == 200, (key, r.text)


async def register_team(client, challenge, members=MIXED):
    member = await make_user("company_member")
    h = await token_for(member)
    r = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    if members is not None:
        r = await client.put(f"/api/v1/proposals/{pid}/team", headers=h, json={"members": members})
        assert r.status_code == 200, r.text
    return pid, h


async def test_a_mixed_team_registers_and_moves_through_steps_hours_apart(client):
    with time_machine.travel(T0, tick=False) as traveller:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        civil = await token_for(team["civil_servant"])
        challenge = await make_open_challenge(buyer, template="design-sprint", start=T0, gap_days=0)
        pid, h = await register_team(client, challenge, members=None)
        register = SPRINT.stage("register")

        # The team's members: each problem is named; a team of one company alone is not mixed.
        r = await client.put(f"/api/v1/proposals/{pid}/team", headers=h, json={"members": [
            {"name": "", "organisation": "CivicLab", "kind": "company", "country": "BE"},
            {"name": "Rui", "organisation": "Uni", "kind": "academia", "country": "XX"}]})
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"members[0].name", "members[1].kind", "members[1].country"}
        r = await client.put(f"/api/v1/proposals/{pid}/team", headers=h, json={"members": MIXED[:1] * 2})
        assert r.status_code == 200 and r.json()["editable"] is True and r.json()["mixed"] is True
        await client.put(f"/api/v1/proposals/{pid}/stages/register", headers=h, json={"answers": valid_answers(register)})
        r = await client.post(f"/api/v1/proposals/{pid}/stages/register/submit", headers=h)
        assert r.status_code == 422
        assert any(e["field"] == "team" and "mixed team" in e["message"] for e in r.json()["errors"]), r.json()
        r = await client.put(f"/api/v1/proposals/{pid}/team", headers=h, json={"members": MIXED})
        assert [m["kind"] for m in r.json()["members"]] == ["company", "university", "civil_society"]
        assert (await client.post(f"/api/v1/proposals/{pid}/stages/register/submit", headers=h)).status_code == 200
        late, late_h = await register_team(client, challenge)  # registers but never submits

        # The buyer team reads the team once the registration deadline has passed.
        assert (await client.get(f"/api/v1/proposals/{pid}/team", headers=civil)).status_code == 404
        traveller.move_to((await stage_row(challenge, "register"))["closes_at"])
        await advance_stage_deadlines()
        r = await client.get(f"/api/v1/proposals/{pid}/team", headers=civil)
        assert r.status_code == 200 and [m["name"] for m in r.json()["members"]] == [m["name"] for m in MIXED]
        assert r.json()["editable"] is False

        # `continue`: no decision; the team that submitted is at the first step, which is open for a few hours.
        proposal = (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()
        assert (proposal["status"], proposal["current_stage"]) == ("advanced", "align")
        assert (await client.get(f"/api/v1/proposals/{late}", headers=late_h)).json()["current_stage"] == "register"
        assert (await stage_row(challenge, "register"))["status"] == "decided"
        for key in STEPS:
            row = await stage_row(challenge, key)
            assert row["status"] == "open", key
            assert row["closes_at"] - row["opens_at"] == SPRINT.stage(key).duration, key
            if key == "prototype":  # photos or a link: neither is refused, photos alone will do
                answers = {k: v for k, v in valid_answers(SPRINT.stage(key)).items() if k != "link"}
                await client.put(f"/api/v1/proposals/{pid}/stages/prototype", headers=h, json={"answers": answers})
                r = await client.post(f"/api/v1/proposals/{pid}/stages/prototype/submit", headers=h)
                assert r.status_code == 422
                assert {"field": "link", "message": "give at least one of: link, photos"} in r.json()["errors"]
                await client.post(f"/api/v1/proposals/{pid}/stages/prototype/documents/photos", headers=h,
                                  files={"file": ("clay-model.png", PNG, "image/png")})
                assert (await client.post(f"/api/v1/proposals/{pid}/stages/prototype/submit", headers=h)).status_code == 200
            if key == "sketch":
                r = await client.post(f"/api/v1/proposals/{pid}/stages/sketch/submit", headers=h)
                assert r.status_code == 422 and any("sketches" in e["field"] for e in r.json()["errors"])
                r = await client.post(f"/api/v1/proposals/{pid}/stages/sketch/documents/sketches", headers=h,
                                      files={"file": ("wall.png", PNG, "image/png")})
                assert r.status_code == 201, r.text
            await client.put(f"/api/v1/proposals/{pid}/stages/{key}", headers=h, json={"answers": valid_answers(SPRINT.stage(key))})
            r = await client.post(f"/api/v1/proposals/{pid}/stages/{key}/submit", headers=h)
            assert r.status_code == 200, (key, r.text)
            traveller.move_to(row["closes_at"])
            await advance_stage_deadlines()
        proposal = (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()
        assert (proposal["status"], proposal["current_stage"]) == ("advanced", "pitch")
        assert (await stage_row(challenge, "pitch"))["status"] == "open"
        # a late team stays behind at the closed registration: it cannot change its team any more
        r = await client.put(f"/api/v1/proposals/{late}/team", headers=late_h, json={"members": MIXED})
        assert r.status_code == 409


async def test_a_stage_without_the_team_feature_refuses_team_changes_naming_the_stage_and_the_feature(client):
    with time_machine.travel(T0, tick=False):
        challenge = await make_open_challenge(template="light", start=T0)
        member = await make_user("company_member")
        h = await token_for(member)
        pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
        r = await client.put(f"/api/v1/proposals/{pid}/team", headers=h, json={"members": MIXED})
        assert r.status_code == 409
        assert {"field": "stages.expression_of_interest.features", "message": "does not include `team`"} in r.json()["errors"]
        other = await token_for(await make_user("company_member"))
        assert (await client.put(f"/api/v1/proposals/{pid}/team", headers=other, json={"members": MIXED})).status_code == 404


async def test_the_team_is_named_on_the_proposal_page_and_the_buyer_reads_it_in_their_language(app):
    from tests.test_proposals_pages import browser, post_form

    with time_machine.travel(T0, tick=False) as traveller:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, template="design-sprint", start=T0, gap_days=0)
        lena = await make_user("company_member")
        async with browser(app, lena) as c:
            r = await post_form(c, f"/challenges/{challenge.id}/propose", f"/challenges/{challenge.id}/propose", {})
            assert r.status_code == 303, r.text
            path = r.headers["location"].split("#")[0]
            page = (await c.get(path)).text
            assert 'action="' + path + '/team"' in page and 'name="m_1_country"' in page  # two blank rows to start
            r = await post_form(c, path, f"{path}/team", {
                "m_0_name": "Lena Maes", "m_0_organisation": "CivicLab", "m_0_kind": "company", "m_0_country": "be",
                "m_1_name": "Rui Costa", "m_1_organisation": "Universidade de Lisboa", "m_1_kind": "university", "m_1_country": "ZZ"})
            assert r.status_code == 422
            assert 'id="f-members-1-country-error"' in r.text and 'value="Rui Costa"' in r.text
            r = await post_form(c, path, f"{path}/team", {
                "m_0_name": "Lena Maes", "m_0_organisation": "CivicLab", "m_0_kind": "company", "m_0_country": "be",
                "m_1_name": "Rui Costa", "m_1_organisation": "Universidade de Lisboa", "m_1_kind": "university", "m_1_country": "PT",
                "m_2_name": "", "m_2_organisation": "", "m_2_kind": "company", "m_2_country": ""})
            assert r.status_code == 303, r.text
            page = (await c.get(path)).text
            assert 'value="Rui Costa"' in page and 'name="m_3_name"' in page and 'name="m_4_name"' not in page
            register = SPRINT.stage("register")
            data = {f"f_{f.key}": "We bring users, researchers and builders together." for f in register.fields}
            r = await post_form(c, path, f"{path}/stages/register", {**data, "action": "submit"})
            assert r.status_code == 303, r.text
        traveller.move_to((await stage_row(challenge, "register"))["closes_at"])
        await advance_stage_deadlines()
        team["civil_servant"].locale = "fr"
        await team["civil_servant"].save()
        async with browser(app, team["civil_servant"]) as c:
            page = (await c.get(path, headers={"accept-language": "fr"})).text
            assert "Rui Costa" in page and "Portugal" in page and "Université ou centre de recherche" in page
            assert 'action="' + path + '/team"' not in page
