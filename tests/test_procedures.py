"""Procedure templates are data: the shipped ones load, broken ones are refused precisely."""

import pytest

from marketplace.procedures import engine
from marketplace.procedures.engine import TemplateError, parse_template

MINIMAL = """
id = "t"
version = 1
name = "T"
[[stages]]
key = "only"
name = "Only"
duration_days = 10
decision = "award"
features = ["questions"]
  [[stages.fields]]
  key = "idea"
  label = "Idea"
  type = "textarea"
  max_words = 100
  [[stages.criteria]]
  key = "team"
  name = "Team"
  weight = 1
"""


def test_shipped_templates_load_with_their_stages():
    templates = engine.load_templates()
    assert [s.key for s in templates[("light", 1)].stages] == ["expression_of_interest", "short_proposal", "pitch"]
    assert [s.key for s in templates[("two-phase", 1)].stages] == ["feasibility", "prototype"]
    assert [s.key for s in templates[("open-call", 1)].stages] == ["proposal"]
    light = templates[("light", 1)]
    eoi = light.stage("expression_of_interest")
    assert eoi.field("idea").max_words == 300
    assert {"team", "motivation"} <= {f.key for f in eoi.fields}
    for template in templates.values():
        for stage in template.stages:
            assert any(c.key == "team" for c in stage.criteria), (template.id, stage.key)


def test_a_valid_minimal_template_parses():
    t = parse_template(MINIMAL, "t.toml")
    assert t.stage("only").duration_days == 10
    assert engine.allowed(t, "only", "ask_question")
    assert not engine.allowed(t, "only", "edit_submission")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('type = "textarea"', 'type = "hologram"'), "t.toml, stage `only`, field `idea`: unknown field type `hologram`"),
        (("duration_days = 10\n", ""), "t.toml, stage `only`: `duration_days` is required"),
        (("weight = 1", "weight = 0"), "t.toml, stage `only`, criterion `team`: `weight` must be a positive whole number"),
        (("weight = 1", "weight = -3"), "criterion `team`: `weight` must be a positive whole number"),
        (('decision = "award"', 'decision = "lottery"'), "stage `only`: `decision` must be one of"),
        (('features = ["questions"]', 'features = ["chat"]'), "unknown feature(s) chat"),
        (('key = "team"', 'key = "price"'), "the criteria must include `team`"),
    ],
)
def test_broken_templates_are_refused_naming_file_stage_and_field(change, message):
    broken = MINIMAL.replace(*change)
    with pytest.raises(TemplateError) as err:
        parse_template(broken, "t.toml")
    assert message in str(err.value)


async def test_anyone_can_read_the_procedures(client):
    response = await client.get("/api/v1/procedures")
    assert response.status_code == 200
    ids = [p["id"] for p in response.json()["items"]]
    assert ids == ["light", "open-call", "two-phase"]
    light = await client.get("/api/v1/procedures/light")
    assert light.json()["stages"][0]["fields"][0] == {
        "key": "idea", "label": "Your idea in a nutshell", "type": "textarea", "required": True,
        "help": "At most 300 words: the approach, not a finished solution.", "max_words": 300, "max_chars": None,
        "choices": [], "carry_from": None,
    }
    assert (await client.get("/api/v1/procedures/nope")).status_code == 404
