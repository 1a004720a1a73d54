"""Procedure templates are data: the shipped ones load, broken ones are refused precisely."""

import pytest

from marketplace.procedures import engine
from marketplace.procedures.engine import TemplateError, parse_template

MINIMAL = """
id = "t"
version = 1
name = {en = "T", fr = "T", nl = "T"}
[[stages]]
key = "only"
name.en = "Only"
name.fr = "Seule"
name.nl = "Enige"
duration_days = 10
decision = "award"
features = ["questions"]
  [[stages.fields]]
  key = "idea"
  label = {en = "Idea", fr = "Idée", nl = "Idee"}
  type = "textarea"
  max_words = 100
  [[stages.criteria]]
  key = "team"
  name = {en = "Team", fr = "Équipe", nl = "Team"}
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
            if stage.decision != "continue":  # a `continue` step is not scored: every team that submitted moves on
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
        (('name.nl = "Enige"\n', ""), "t.toml, stage `only`: `name` lacks its text in nl"),
        (('label = {en = "Idea", fr = "Idée", nl = "Idee"}', 'label = "Idea"'),
         "t.toml, stage `only`, field `idea`: `label` must be given in every language: `label.en`, `label.fr` and `label.nl`"),
        (('name.fr = "Seule"', 'name.de = "Einzige"'), "`name` lacks its text in fr"),
    ],
)
def test_broken_templates_are_refused_naming_file_stage_and_field(change, message):
    broken = MINIMAL.replace(*change)
    with pytest.raises(TemplateError) as err:
        parse_template(broken, "t.toml")
    assert message in str(err.value)


def test_template_texts_speak_the_readers_language():
    from jinja2 import Environment

    from marketplace.core import i18n
    from marketplace.core.templating import configure

    name = engine.latest("light").stage("expression_of_interest").name
    assert name == "Expression of interest"  # as a str: the English text, a stable key
    token = i18n.current_locale.set("fr")
    try:
        assert str(name) == f"{name}" == i18n.gettext(name) == "Manifestation d'intérêt"
        page = configure(Environment(autoescape=True)).from_string("{{ n }}|{{ _(n) }}|{{ _('Stage %(s)s', s=n) }}")
        # `_()` trusts a template's text as it trusts the catalogue's: both are ours
        assert page.render(n=name) == "Manifestation d&#39;intérêt|Manifestation d'intérêt|Stage Manifestation d&#39;intérêt"
        mail = configure(Environment(autoescape=False)).from_string("{{ n }}|{{ _(n) }}|{{ _('Stage %(s)s', s=n) }}")
        assert mail.render(n=name) == "Manifestation d'intérêt|Manifestation d'intérêt|Stage Manifestation d'intérêt"
    finally:
        i18n.current_locale.reset(token)
    assert name.local("nl") == "Blijk van interesse"


def test_every_shipped_text_is_in_english_french_and_dutch():
    for template in engine.load_templates().values():
        texts = [template.name]
        for stage in template.stages:
            texts += [stage.name, *(f.label for f in stage.fields), *(d.label for d in stage.documents), *(c.name for c in stage.criteria)]
        for text in texts:
            assert set(text.translations) == {"en", "fr", "nl"} and all(text.translations.values()), (template.id, text)


async def test_procedures_answer_in_the_readers_language(client):
    light = (await client.get("/api/v1/procedures/light", headers={"accept-language": "nl"})).json()
    assert light["stages"][0]["name"] == "Blijk van interesse"
    assert light["stages"][0]["fields"][0]["label"] == "Uw idee in een notendop"


async def test_anyone_can_read_the_procedures(client):
    response = await client.get("/api/v1/procedures")
    assert response.status_code == 200
    ids = [p["id"] for p in response.json()["items"]]
    assert ids == ["design-sprint", "light", "open-call", "two-phase"]
    light = await client.get("/api/v1/procedures/light")
    assert light.json()["stages"][0]["fields"][0] == {
        "key": "idea", "label": "Your idea in a nutshell", "type": "textarea", "required": True,
        "help": "At most 300 words: the approach, not a finished solution.", "max_words": 300, "max_chars": None,
        "choices": [], "carry_from": None,
    }
    assert (await client.get("/api/v1/procedures/nope")).status_code == 404
    two = (await client.get("/api/v1/procedures/two-phase")).json()["stages"][0]
    assert (two["paid"], two["cap_percent"], two["max_advancing"]) == (True, 25, 5)
    assert two["decision_rule"].endswith("Each selected proposal receives a paid contract; the next stage opens only to them.")


def test_the_authors_guide_example_loads_and_does_what_the_guide_says():
    import re
    from pathlib import Path

    guide = (Path(engine.PROCEDURES_DIR) / "README.md").read_text(encoding="utf-8")
    example = re.search(r"## Worked example.*?```toml\n(.*?)```", guide, re.S).group(1)
    t = parse_template(example, "README.md")
    assert [s.key for s in t.stages] == ["idea", "proof"]
    assert engine.advance_cap(t.stage("idea")) is None and engine.advance_cap(t.stage("proof")) == 2
    assert engine.allowed(t, "idea", "ask_question") and not engine.allowed(t, "proof", "ask_question")
    assert engine.allowed(t, "proof", "schedule_pitch") and not engine.allowed(t, "proof", "edit_submission")
    for key in ("`id`", "`version`", "`duration_days`", "`decision`", "`max_selected`", "`paid`", "`cap_percent`", "`features`",
                "`carry_from`", "`max_mb`", "`scale_max`", "`weight`", "`questions`", "`edits`", "`documents`", "`pitch`"):
        assert key in guide, f"the guide documents {key}"


def test_procedures_check_validates_files_and_names_file_stage_and_field(tmp_path, capsys):
    from marketplace.cli import main

    shipped = sorted(str(p) for p in engine.PROCEDURES_DIR.glob("*.toml"))
    assert main(["procedures", "check", *shipped]) == 0
    assert "light.toml: template `light` version 1 is valid" in capsys.readouterr().out
    broken = tmp_path / "mine.toml"
    broken.write_text(MINIMAL.replace('type = "textarea"', 'type = "hologram"').replace("weight = 1", "weight = 0")
                      .replace('duration_days = 10', 'duration_days = 10\nmax_selcted = 2'), encoding="utf-8")
    assert main(["procedures", "check", str(broken)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert f"{broken}, stage `only`, field `idea`: unknown field type `hologram`" in errors[1] + errors[0] + errors[2]
    assert any(e.startswith(f"{broken}, stage `only`, criterion `team`: `weight` must be a positive whole number") for e in errors)
    assert any(e.startswith(f"{broken}, stage `only`: unknown setting(s) max_selcted") for e in errors)
    assert errors[-1] == f"{broken}: 3 error(s)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('decision = "award"', 'decision = "pass_fail"\nmax_selected = 3'),
         "`max_selected` must be left out when `decision` is `pass_fail`"),
        (('decision = "award"', 'decision = "shortlist"'), "`max_selected` is required when `decision` is `shortlist`"),
        (('decision = "award"', 'decision = "award"\ncap_percent = 20'), "`cap_percent` applies only to a stage with `paid = true`"),
        (('features = ["questions"]', 'features = ["questions", "documents"]'),
         '`features` has "documents" but the stage declares no `[[stages.documents]]`'),
    ],
)
def test_decision_and_payment_settings_are_checked(change, message):
    with pytest.raises(TemplateError) as err:
        parse_template(MINIMAL.replace(*change), "t.toml")
    assert message in str(err.value)


def test_an_award_before_the_last_stage_must_be_paid():
    two = MINIMAL + MINIMAL[MINIMAL.index("[[stages]]"):].replace('key = "only"', 'key = "second"')
    with pytest.raises(TemplateError) as err:
        parse_template(two, "t.toml")
    assert "t.toml, stage `only`: an `award` before the last stage gives contracts: set `paid = true`" in str(err.value)
    assert parse_template(two.replace('decision = "award"', 'decision = "award"\npaid = true', 1), "t.toml").stage("only").paid
