"""Scoring guidance: a template's criterion says, in English, French and Dutch, what a proposal given a
score looks like; the template checker refuses a missing language or a score outside the scale, naming
file, stage and field; the evaluator's form shows the guidance beside each score; the API carries it."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from marketplace.evaluation.tables import Score
from marketplace.procedures import engine
from marketplace.procedures.engine import TemplateError, parse_template
from tests.factories import csrf_token, make_org, make_user, signed_in_client, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, make_proposal, stage_row

T0 = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)

TEMPLATE = """
id = "guided"
version = 1
name = {en = "Guided", fr = "Guidé", nl = "Begeleid"}

[[stages]]
key = "only"
name = {en = "Only", fr = "Seule", nl = "Enige"}
duration_days = 10
decision = "award"

  [[stages.criteria]]
  key = "team"
  name = {en = "Team", fr = "Équipe", nl = "Team"}
  weight = 1
  scale_max = 4
  guidance.4 = {en = "Named people with the right skills.", fr = "Des personnes nommées.", nl = "Personen met naam."}
  guidance.0 = {en = "No team is named.", fr = "Aucune équipe.", nl = "Geen team."}
"""


def test_a_criterion_carries_guidance_for_its_scores_in_three_languages():
    criterion = parse_template(TEMPLATE, "guided.toml").stage("only").criteria[0]
    assert [level for level, _text in criterion.guidance] == [0, 4]
    assert criterion.guidance_for(4).local("fr") == "Des personnes nommées."
    assert criterion.guidance_for(2) is None


GUIDANCE_0 = 'guidance.0 = {en = "No team is named.", fr = "Aucune équipe.", nl = "Geen team."}'


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('guidance.0 = {en = "No team is named.", fr = "Aucune équipe."}', "`guidance.0` lacks its text in nl"),
        ('guidance.0 = {en = "No team.", fr = "Aucune équipe.", nl = "Geen team.", de = "Kein Team."}',
         "`guidance.0` has unknown language(s) de"),
        ('guidance.5 = {en = "Beyond.", fr = "Au-delà.", nl = "Voorbij."}', "`guidance.5` is outside the scale: scores run from 0 to 4"),
        ('guidance.top = {en = "Top.", fr = "Top.", nl = "Top."}', "`guidance.top` is not a score"),
        ('guidance = "Be fair."', "`guidance` must be a table of scores"),
    ],
)
def test_broken_guidance_is_refused_naming_file_stage_criterion_and_field(change, message):
    assert GUIDANCE_0 in TEMPLATE
    with pytest.raises(TemplateError) as refused:
        parse_template(TEMPLATE.replace("  guidance.4 = ", "  # guidance.4 = ").replace(GUIDANCE_0, change), "guided.toml")
    assert len(refused.value.errors) == 1
    assert refused.value.errors[0].startswith(f"guided.toml, stage `only`, criterion `team`: {message}")


def test_the_template_checker_lists_every_guidance_error(tmp_path, capsys):
    from marketplace.cli import main

    broken = tmp_path / "guided.toml"
    broken.write_text(TEMPLATE.replace(', nl = "Personen met naam."}', "}").replace("guidance.0", "guidance.9"), encoding="utf-8")
    assert main(["procedures", "check", str(broken)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert f"{broken}, stage `only`, criterion `team`: `guidance.4` lacks its text in nl (`guidance.4.nl = \"...\"`)" in errors
    assert f"{broken}, stage `only`, criterion `team`: `guidance.9` is outside the scale: scores run from 0 to 4 (`scale_max`)" in errors
    assert errors[-1] == f"{broken}: 2 error(s)"


@pytest.mark.parametrize("template_id", ["light", "two-phase", "open-call"])
def test_every_criterion_of_the_shipped_templates_has_guidance_up_to_the_top_of_its_scale(template_id):
    for stage in engine.latest(template_id).stages:
        for criterion in stage.criteria:
            levels = [level for level, _text in criterion.guidance]
            assert len(levels) >= 3 and levels[-1] == criterion.scale_max, (stage.key, criterion.key, levels)
            for _level, text in criterion.guidance:
                assert all(text.local(lang).strip() for lang in ("en", "fr", "nl"))
                assert len({text.local(lang) for lang in ("en", "fr", "nl")}) == 3, "translated, not copied"


async def test_the_procedures_api_gives_the_guidance_in_the_readers_language(client):
    light = (await client.get("/api/v1/procedures/light", headers={"Accept-Language": "nl"})).json()
    novelty = next(c for c in light["stages"][0]["criteria"] if c["key"] == "novelty")
    assert [g["score"] for g in novelty["guidance"]] == [1, 3, 5]
    assert novelty["guidance"][0]["text"] == "Een bekende oplossing of een standaardproduct, zonder iets nieuws voor dit probleem."


async def test_the_evaluator_sees_the_guidance_beside_each_score_and_scores_with_radio_buttons(client):
    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, start=T0)
        proposal = await make_proposal(challenge, status="submitted")
        ines = await make_user("evaluator", org=buyer)
        civil = await token_for(team["civil_servant"])
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=civil,
                                  json={"user_id": str(ines.id)})).status_code == 201
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"])
        ih = await token_for(ines)
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=ih,
                                  json={"has_conflict": False})).status_code == 201

        criteria = (await client.get(f"/api/v1/challenges/{challenge.id}/criteria?stage=expression_of_interest",
                                     headers={**ih, "Accept-Language": "fr"})).json()["items"]
        relevance = next(c for c in criteria if c["key"] == "relevance")
        assert relevance["guidance"][-1] == {"score": 5, "text": (
            "Traite le problème tel que l'acheteur l'a décrit, avec ses besoins et contraintes principaux et un lien "
            "clair avec les personnes concernées.")}

        await signed_in_client(client, ines)
        url = f"/proposals/{proposal.id}/score?stage=expression_of_interest"
        form = (await client.get(url)).text
        assert len(re.findall(r'type="radio" id="f-value_relevance-\d"', form)) == 6  # 0 to 5
        assert ('<input type="radio" id="f-value_novelty-1" name="value_novelty" value="1" '
                'aria-describedby="f-value_novelty-1-guidance">') in form
        assert ('<p class="hint" id="f-value_novelty-1-guidance">A known solution or an off-the-shelf product, '
                'with nothing new for this problem.</p>') in form
        assert 'id="f-value_novelty-2" name="value_novelty" value="2">' in form, "a score without guidance has none"
        csrf = await csrf_token(client, url)
        saved = await client.post(f"/proposals/{proposal.id}/score", data={
            "_csrf_token": csrf, "stage": "expression_of_interest", "value_relevance": "5", "why_relevance": "Exact fit.",
            "value_novelty": "1", "why_novelty": "Off the shelf.", "value_team": "3", "why_team": "Credible."})
        assert saved.status_code == 303, saved.text
        again = (await client.get(url)).text
        assert 'id="f-value_relevance-5" name="value_relevance" value="5" checked' in again
        assert sorted((s["criterion"], s["value"]) for s in await Score.select(Score.criterion, Score.value)) == [
            ("novelty", 1), ("relevance", 5), ("team", 3)]


async def test_a_challenges_own_criteria_carry_the_buyers_guidance_checked_against_the_scale(client):
    buyer = await make_org("public_body")
    civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
    challenge = await make_open_challenge(buyer)
    url = f"/api/v1/challenges/{challenge.id}/criteria"
    team = {"key": "team", "name": "Team and motivation", "stage": "expression_of_interest", "weight": 40, "scale_max": 3}
    refused = await client.put(url, headers=civil, json=[{**team, "guidance": [
        {"score": 4, "text": "Beyond the scale."}, {"score": 1, "text": "  "}, {"score": 1, "text": "Twice."}]}])
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"[0].guidance[0].score", "[0].guidance[1].text", "[0].guidance"}

    ok = await client.put(url, headers=civil, json=[
        {"key": "impact", "name": "Impact on callers", "stage": "expression_of_interest", "weight": 60},
        {**team, "guidance": [{"score": 3, "text": "Named people who ran a call room."}, {"score": 0, "text": "No team named."}]}])
    assert ok.status_code == 200, ok.text
    items = (await client.get(f"{url}?stage=expression_of_interest", headers=civil)).json()["items"]
    assert [c["guidance"] for c in items] == [[], [{"score": 0, "text": "No team named."},
                                                  {"score": 3, "text": "Named people who ran a call room."}]]
