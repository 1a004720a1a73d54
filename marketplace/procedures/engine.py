"""Load and validate the declarative procedure templates in `procedures/*.toml`.

A template is a list of stages. Each stage says what it asks (fields and documents), how long it
stays open, how it is decided, which criteria score it and which features are on while it is open.
Differences between procedures are data here, never subclasses (Prozorro's lesson).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from marketplace.core import i18n
from marketplace.core.clock import deadline_on_or_after
from marketplace.settings import resource_dir

PROCEDURES_DIR = resource_dir("procedures")

FIELD_TYPES = {"text", "textarea", "number", "money", "choice", "multichoice", "url", "date", "boolean", "milestones", "team"}
DECISIONS = {"shortlist", "award", "pass_fail", "continue"}
FEATURES = {"questions", "edits", "pitch", "documents", "team"}
PANELS = {"evaluators", "jury"}  # who scores a stage: the assigned evaluators, or the challenge's jury (live, on a phone)
MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "png": "image/png",
    "jpg": "image/jpeg",
    "mp4": "video/mp4",
    "csv": "text/csv",
}

from marketplace.procedures.texts import EMPTY_TEXT, Text  # noqa: E402  (texts a person reads: en, fr, nl)


class TemplateError(ValueError):
    """A broken template: each message names the file, the stage and the field (`errors`: all of them)."""

    def __init__(self, *errors: str) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def _text(raw: dict[str, Any], key: str, where: str, required: bool = True) -> Text:
    """A translated text: `key.en`, `key.fr` and `key.nl` (a TOML table), every language present."""
    if key not in raw:
        if required:
            raise TemplateError(f"{where}: `{key}` is required (as `{key}.en`, `{key}.fr` and `{key}.nl`)")
        return EMPTY_TEXT
    value = raw[key]
    if not isinstance(value, dict):
        raise TemplateError(f"{where}: `{key}` must be given in every language: `{key}.en`, `{key}.fr` and `{key}.nl`")
    missing = [lang for lang in i18n.LOCALES if not isinstance(value.get(lang), str) or not value[lang].strip()]
    if missing:
        raise TemplateError(f"{where}: `{key}` lacks its text in {', '.join(missing)} (`{key}.{missing[0]} = \"...\"`)")
    unknown = set(value) - set(i18n.LOCALES)
    if unknown:
        raise TemplateError(f"{where}: `{key}` has unknown language(s) {', '.join(sorted(unknown))} (known: {', '.join(i18n.LOCALES)})")
    return Text({lang: value[lang] for lang in i18n.LOCALES})


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Text
    type: str
    required: bool = False
    help: Text = EMPTY_TEXT
    max_words: int | None = None
    max_chars: int | None = None
    choices: tuple[str, ...] = ()
    carry_from: str | None = None  # "profile.<attr>" or "<stage>.<field>": pre-filled, never typed twice


@dataclass(frozen=True)
class DocumentSpec:
    key: str
    label: Text
    types: tuple[str, ...]
    max_mb: int = 10
    required: bool = False

    @property
    def mime_types(self) -> tuple[str, ...]:
        return tuple(MIME_TYPES[t] for t in self.types)


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    name: Text
    weight: int
    scale_max: int = 5
    description: Text = EMPTY_TEXT
    guidance: tuple[tuple[int, Text], ...] = ()  # (score, what a proposal scored so looks like), lowest first

    def guidance_for(self, score: int) -> Text | None:
        """What a proposal given `score` looks like, when the template says."""
        return next((text for level, text in self.guidance if level == score), None)


@dataclass(frozen=True)
class StageSpec:
    key: str
    name: Text
    description: Text
    duration_days: int
    decision: str
    max_selected: int | None
    features: frozenset[str]
    fields: tuple[FieldSpec, ...]
    documents: tuple[DocumentSpec, ...]
    criteria: tuple[CriterionSpec, ...]
    paid: bool = False  # phase contracts (e.g. SBRI feasibility) are paid before the next stage opens
    cap_percent: int | None = None  # a paid stage's contracts together: at most this share of the budget cap
    duration_hours: int | None = None  # a short stage (e.g. a step of a two-day design sprint): open this many hours
    team_min_members: int | None = None  # `team` feature: at least this many named members to submit the stage
    team_mixed: bool = False  # `team` feature: at least one member from a university, civil society or a public body
    panel: str = "evaluators"  # who scores the stage: "evaluators" or "jury"
    require_one_of: tuple[str, ...] = ()  # field or document keys: a submission needs at least one of them (photos or a link)

    @property
    def duration(self) -> timedelta:
        """How long the stage stays open when the challenge is published (hours for a short stage, else days)."""
        return timedelta(hours=self.duration_hours) if self.duration_hours else timedelta(days=self.duration_days)

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True)
class ProcedureTemplate:
    id: str
    version: int
    name: Text
    description: Text
    stages: tuple[StageSpec, ...]
    source: str = ""
    min_stage_open_hours: int | None = None  # the shortest a stage may stay open; None: the platform's setting (in days)

    def min_open(self, default_days: int) -> timedelta:
        """The shortest a stage of this procedure may stay open: the template's own minimum, or else the
        platform's `MARKETPLACE_MIN_STAGE_OPEN_DAYS` (`default_days`)."""
        if self.min_stage_open_hours is not None:
            return timedelta(hours=self.min_stage_open_hours)
        return timedelta(days=default_days)

    def stage(self, key: str) -> StageSpec:
        for s in self.stages:
            if s.key == key:
                return s
        raise KeyError(key)

    def next_stage(self, key: str) -> StageSpec | None:
        keys = [s.key for s in self.stages]
        i = keys.index(key)
        return self.stages[i + 1] if i + 1 < len(keys) else None

    @property
    def stage_keys(self) -> list[str]:
        return [s.key for s in self.stages]


def _req(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise TemplateError(f"{where}: `{key}` is required")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise TemplateError(f"{where}: `{key}` must be {getattr(kind, '__name__', kind)}")
    return value


def _positive(value: Any, where: str, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise TemplateError(f"{where}: `{key}` must be a positive whole number")
    return value


def _parse_field(raw: dict[str, Any], where: str) -> FieldSpec:
    key = _req(raw, "key", str, where)
    where = f"{where}, field `{key}`"
    ftype = _req(raw, "type", str, where)
    if ftype not in FIELD_TYPES:
        raise TemplateError(f"{where}: unknown field type `{ftype}` (known: {', '.join(sorted(FIELD_TYPES))})")
    choices = tuple(raw.get("choices", ()))
    if ftype in {"choice", "multichoice"} and not choices:
        raise TemplateError(f"{where}: a `{ftype}` field needs `choices`")
    for limit in ("max_words", "max_chars"):
        if limit in raw:
            _positive(raw[limit], where, limit)
    unknown = set(raw) - {"key", "label", "type", "required", "help", "max_words", "max_chars", "choices", "carry_from"}
    if unknown:
        raise TemplateError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    return FieldSpec(key=key, label=_text(raw, "label", where), type=ftype, required=bool(raw.get("required", False)),
                     help=_text(raw, "help", where, required=False), max_words=raw.get("max_words"), max_chars=raw.get("max_chars"),
                     choices=choices, carry_from=raw.get("carry_from"))


STAGE_KEYS = {"key", "name", "description", "duration_days", "duration_hours", "decision", "max_selected", "paid", "cap_percent",
              "features", "fields", "documents", "criteria", "team_min_members", "team_mixed", "panel", "require_one_of"}
TEMPLATE_KEYS = {"id", "version", "name", "description", "stages", "min_stage_open_hours"}


def _unknown(raw: dict[str, Any], known: set[str], where: str) -> None:
    unknown = set(raw) - known
    if unknown:
        raise TemplateError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")


class _Errors(list):
    """Collects every error of a template (one per field, document, criterion and stage setting) so that
    an author sees them all at once."""

    def run(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except TemplateError as exc:
            self.extend(exc.errors)
            return None


def _parse_document(d: dict[str, Any], where: str) -> DocumentSpec:
    dkey = _req(d, "key", str, where)
    where = f"{where}, document `{dkey}`"
    _unknown(d, {"key", "label", "types", "max_mb", "required"}, where)
    types = tuple(d.get("types", ("pdf",)))
    bad = [t for t in types if t not in MIME_TYPES]
    if bad:
        raise TemplateError(f"{where}: unknown type(s) {', '.join(bad)} (known: {', '.join(sorted(MIME_TYPES))})")
    return DocumentSpec(key=dkey, label=_text(d, "label", where), types=types, max_mb=_positive(d.get("max_mb", 10), where, "max_mb"),
                        required=bool(d.get("required", False)))


def _parse_guidance(raw: Any, scale_max: int, where: str) -> tuple[tuple[int, Text], ...]:
    """`guidance.<score>.en/fr/nl`: what a proposal given that score looks like, for some or all of the
    scores 0..scale_max. Every error is reported, each naming the field (`guidance.<score>`)."""
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: `guidance` must be a table of scores, e.g. `guidance.3.en = \"...\"`")
    errors = _Errors()
    out: list[tuple[int, Text]] = []
    for level, texts in raw.items():
        field = f"guidance.{level}"
        if not level.isdigit():
            errors.append(f"{where}: `{field}` is not a score: use a whole number from 0 to {scale_max} (`guidance.3.en = \"...\"`)")
            continue
        if int(level) > scale_max:
            errors.append(f"{where}: `{field}` is outside the scale: scores run from 0 to {scale_max} (`scale_max`)")
            continue
        text = errors.run(_text, {field: texts}, field, where)
        if text is not None:
            out.append((int(level), text))
    if errors:
        raise TemplateError(*errors)
    return tuple(sorted(out, key=lambda item: item[0]))


def _parse_criterion(c: dict[str, Any], where: str) -> CriterionSpec:
    ckey = _req(c, "key", str, where)
    where = f"{where}, criterion `{ckey}`"
    _unknown(c, {"key", "name", "description", "weight", "scale_max", "guidance"}, where)
    scale_max = _positive(c.get("scale_max", 5), where, "scale_max")
    return CriterionSpec(key=ckey, name=_text(c, "name", where), weight=_positive(c.get("weight"), where, "weight"),
                         scale_max=scale_max, description=_text(c, "description", where, required=False),
                         guidance=_parse_guidance(c.get("guidance", {}), scale_max, where))


def _parse_stage(raw: dict[str, Any], where: str) -> StageSpec:
    key = _req(raw, "key", str, where)
    where = f"{where}, stage `{key}`"
    errors = _Errors()
    errors.run(_unknown, raw, STAGE_KEYS, where)
    name = errors.run(_text, raw, "name", where)
    description = errors.run(_text, raw, "description", where, False)
    duration, hours = 0, None
    if "duration_days" in raw and "duration_hours" in raw:
        errors.append(f"{where}: give `duration_days` or `duration_hours`, not both")
    elif "duration_hours" in raw:
        hours = errors.run(_positive, raw["duration_hours"], where, "duration_hours")
    else:
        duration = errors.run(lambda: _positive(raw["duration_days"], where, "duration_days") if "duration_days" in raw
                              else _fail(f"{where}: `duration_days` is required (or `duration_hours`, for a short stage)"))
    decision = errors.run(_req, raw, "decision", str, where)
    if decision is not None and decision not in DECISIONS:
        errors.append(f"{where}: `decision` must be one of {', '.join(sorted(DECISIONS))}")
    features = frozenset(raw.get("features", ()))
    if features - FEATURES:
        errors.append(f"{where}: unknown feature(s) {', '.join(sorted(features - FEATURES))} (known: {', '.join(sorted(FEATURES))})")
    fields = [f for f in (errors.run(_parse_field, f, where) for f in raw.get("fields", ())) if f]
    if len({f.key for f in fields}) != len(fields):
        errors.append(f"{where}: two fields share a key")
    documents = [d for d in (errors.run(_parse_document, d, where) for d in raw.get("documents", ())) if d]
    if documents and "documents" not in features:
        errors.append(f"{where}: `documents` are asked but `features` lacks \"documents\" (uploads would be refused)")
    if "documents" in features and not raw.get("documents"):
        errors.append(f"{where}: `features` has \"documents\" but the stage declares no `[[stages.documents]]` to upload")
    criteria = [c for c in (errors.run(_parse_criterion, c, where) for c in raw.get("criteria", ())) if c]
    if criteria and not any(c.key == "team" for c in criteria):
        errors.append(f"{where}: the criteria must include `team` (the team and its motivation)")
    max_selected = raw.get("max_selected")
    if max_selected is not None:
        errors.run(_positive, max_selected, where, "max_selected")
    if decision == "shortlist" and max_selected is None:
        errors.append(f"{where}: `max_selected` is required when `decision` is `shortlist` (how many advance)")
    if decision == "pass_fail" and max_selected is not None:
        errors.append(f"{where}: `max_selected` must be left out when `decision` is `pass_fail` (every proposal that passes advances)")
    if decision == "continue" and max_selected is not None:
        errors.append(f"{where}: `max_selected` must be left out when `decision` is `continue` (every submitted proposal moves on)")
    team_min = raw.get("team_min_members")
    if team_min is not None:
        errors.run(_positive, team_min, where, "team_min_members")
    team_mixed = raw.get("team_mixed", False)
    if not isinstance(team_mixed, bool):
        errors.append(f"{where}: `team_mixed` must be true or false")
    if (team_min is not None or team_mixed) and "team" not in features:
        errors.append(f"{where}: `team_min_members` and `team_mixed` need \"team\" in `features` (the team's members are named there)")
    panel = raw.get("panel", "evaluators")
    if panel not in PANELS:
        errors.append(f"{where}: `panel` must be one of {', '.join(sorted(PANELS))}")
    elif panel == "jury" and not criteria:
        errors.append(f"{where}: `panel = \"jury\"` needs `[[stages.criteria]]` for the jury to score against")
    paid = raw.get("paid", False)
    if not isinstance(paid, bool):
        errors.append(f"{where}: `paid` must be true or false")
    elif paid and decision != "award":
        errors.append(f"{where}: `paid = true` needs `decision = \"award\"` (the selected proposals receive a contract)")
    cap_percent = raw.get("cap_percent")
    if cap_percent is not None:
        if errors.run(_positive, cap_percent, where, "cap_percent") and cap_percent > 100:
            errors.append(f"{where}: `cap_percent` must be at most 100 (a share of the challenge's budget cap)")
        if not paid:
            errors.append(f"{where}: `cap_percent` applies only to a stage with `paid = true`")
    one_of = raw.get("require_one_of", [])
    if "require_one_of" in raw and (not isinstance(one_of, list) or len(one_of) < 2 or not all(isinstance(k, str) for k in one_of)):
        errors.append(f"{where}: `require_one_of` must list at least two field or document keys")
        one_of = []
    for k in one_of:
        if k not in {f.key for f in fields} | {d.key for d in documents}:
            errors.append(f"{where}: `require_one_of` names `{k}`, which is neither a field nor a document of the stage")
    if errors:
        raise TemplateError(*errors)
    return StageSpec(key=key, name=name, description=description, duration_days=duration, decision=decision, max_selected=max_selected,
                     features=features, fields=tuple(fields), documents=tuple(documents), criteria=tuple(criteria), paid=paid,
                     cap_percent=cap_percent, duration_hours=hours, team_min_members=team_min, team_mixed=team_mixed, panel=panel,
                     require_one_of=tuple(one_of))


def _fail(message: str) -> None:
    raise TemplateError(message)


def parse_template(text: str, source: str) -> ProcedureTemplate:
    """Parse and validate one template; `source` names it in error messages. Raises `TemplateError`
    with every error found (`.errors`), each naming the file, the stage and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML ({exc})") from None
    errors = _Errors()
    errors.run(_unknown, data, TEMPLATE_KEYS, source)
    tid = errors.run(_req, data, "id", str, source)
    version = errors.run(_positive, data.get("version"), source, "version")
    name = errors.run(_text, data, "name", source)
    description = errors.run(_text, data, "description", source, False)
    raw_stages = data.get("stages") or []
    if not raw_stages:
        errors.append(f"{source}: a template needs at least one stage (`[[stages]]`)")
    stages = [s for s in (errors.run(_parse_stage, s, source) for s in raw_stages) if s]
    keys = [s.get("key") for s in raw_stages if isinstance(s, dict)]
    if len(set(keys)) != len(keys):
        errors.append(f"{source}: two stages share a key")
    if raw_stages and isinstance(raw_stages[-1], dict) and raw_stages[-1].get("decision") not in (None, "award"):
        errors.append(f"{source}, stage `{raw_stages[-1].get('key')}`: the last stage must be decided by `award`")
    for raw in raw_stages[:-1]:
        if isinstance(raw, dict) and raw.get("decision") == "award" and not raw.get("paid"):
            errors.append(f"{source}, stage `{raw.get('key')}`: an `award` before the last stage gives contracts: set `paid = true`")
    min_hours = data.get("min_stage_open_hours")
    if min_hours is not None and errors.run(_positive, min_hours, source, "min_stage_open_hours") is not None:
        for s in stages:
            if s.duration < timedelta(hours=min_hours):
                errors.append(f"{source}, stage `{s.key}`: `duration_hours` is shorter than the template's `min_stage_open_hours` ({min_hours})")
    for s in stages:
        if s.duration_hours and min_hours is None:
            errors.append(f"{source}, stage `{s.key}`: a stage in `duration_hours` needs the template's `min_stage_open_hours` "
                          "(the platform's minimum is counted in days)")
    for s in stages:
        for f in s.fields:
            if f.carry_from and not f.carry_from.startswith("profile.") and f.carry_from.split(".")[0] not in keys:
                errors.append(f"{source}, stage `{s.key}`, field `{f.key}`: `carry_from` names an unknown stage")
    if errors:
        raise TemplateError(*errors)
    return ProcedureTemplate(id=tid, version=version, name=name, description=description, stages=tuple(stages), source=source,
                             min_stage_open_hours=min_hours)


@lru_cache(maxsize=1)
def load_templates(directory: Path = PROCEDURES_DIR) -> dict[tuple[str, int], ProcedureTemplate]:
    """Every template version in `directory`, keyed by (id, version). Fails loudly on a broken one."""
    templates: dict[tuple[str, int], ProcedureTemplate] = {}
    for path in sorted(directory.glob("*.toml")):
        template = parse_template(path.read_text(encoding="utf-8"), path.name)
        if (template.id, template.version) in templates:
            raise TemplateError(f"{path.name}: template `{template.id}` version {template.version} is defined twice")
        templates[(template.id, template.version)] = template
    if not templates:
        raise TemplateError(f"{directory}: no procedure templates found")
    return templates


def latest(template_id: str) -> ProcedureTemplate | None:
    """The newest version of a template, used when a challenge starts."""
    versions = [t for (tid, _), t in load_templates().items() if tid == template_id]
    return max(versions, key=lambda t: t.version) if versions else None


def get(template_id: str, version: int) -> ProcedureTemplate:
    """The exact version a challenge started with (editing a template never changes a running challenge)."""
    return load_templates()[(template_id, version)]


def all_latest() -> list[ProcedureTemplate]:
    ids = sorted({tid for tid, _ in load_templates()})
    return [t for t in (latest(i) for i in ids) if t is not None]


# Decisions and stage features (permissions) live in `rules`; here for every caller of `engine`.
from marketplace.procedures.rules import (  # noqa: E402
    ACTION_FEATURES,
    FeatureOff,
    advance_cap,
    allowed,
    decision_rule,
    feature_label,
    feature_of,
    open_stage_key,
    require,
)

__all__ = ["ACTION_FEATURES", "FeatureOff", "advance_cap", "allowed", "decision_rule", "feature_label", "feature_of",
           "open_stage_key", "require"]


@dataclass(frozen=True)
class ScheduledStage:
    key: str
    opens_at: datetime
    closes_at: datetime


def schedule(template: ProcedureTemplate, start: datetime, closes_at: dict[str, datetime] | None = None,
             gap_days: int = 0) -> list[ScheduledStage]:
    """Stage dates from the template's durations (closing at the next 12:00 Brussels time), with explicit
    `closes_at` overrides per stage.
    A stage opens when the previous one closes (plus `gap_days` for evaluation)."""
    out: list[ScheduledStage] = []
    opens = start
    overrides = closes_at or {}
    for stage in template.stages:
        closes = overrides.get(stage.key) or (next_hour(opens + stage.duration) if stage.duration_hours
                                              else deadline_on_or_after(opens + stage.duration))
        out.append(ScheduledStage(stage.key, opens, closes))
        opens = closes + timedelta(days=gap_days)
    return out


def next_hour(value: datetime) -> datetime:
    """A short stage closes on the hour: the first full hour at or after `value`."""
    whole = value.replace(minute=0, second=0, microsecond=0)
    return whole if whole == value else whole + timedelta(hours=1)


@dataclass(frozen=True)
class DueEvent:
    due_at: datetime
    name: str
    stage: str
    payload: dict[str, Any] = field(default_factory=dict)
