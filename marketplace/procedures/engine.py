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

from markupsafe import escape

from marketplace.core import i18n
from marketplace.settings import PROJECT_ROOT

PROCEDURES_DIR = PROJECT_ROOT / "procedures"

FIELD_TYPES = {"text", "textarea", "number", "money", "choice", "multichoice", "url", "date", "boolean", "milestones", "team"}
DECISIONS = {"shortlist", "award", "pass_fail"}
FEATURES = {"questions", "edits", "pitch", "documents"}
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


class TemplateError(ValueError):
    """A broken template: the message names the file, the stage and the field."""


class Text(str):
    """A text a person reads (a name, label, help or description), in English, French and Dutch.

    Its value as a `str` is the English text: compare, hash and store it as before. Shown to a
    person it speaks the request's language: `str()`, f-strings, `%s`, Jinja's `{{ }}` and `_()`
    all give `local()`. Pass `text.local()` (or `str(text)`) to msgspec, which refuses `str` subclasses."""

    translations: dict[str, str]

    def __new__(cls, translations: dict[str, str]) -> Text:
        obj = super().__new__(cls, translations.get(i18n.DEFAULT_LOCALE, ""))
        obj.translations = dict(translations)
        return obj

    def local(self, locale: str | None = None) -> str:
        """The text in `locale` (default: the current request's), English when that one is missing."""
        lang = locale or i18n.current_locale.get()
        return self.translations.get(lang) or str.__str__(self)

    def __str__(self) -> str:
        return self.local()

    def __format__(self, spec: str) -> str:
        return format(self.local(), spec)

    def __html__(self) -> str:
        return str(escape(self.local()))

    def __reduce__(self):  # pickling (e.g. through a cache) keeps every language
        return (Text, (self.translations,))


EMPTY_TEXT = Text({lang: "" for lang in i18n.LOCALES})


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
    paid: bool = False  # phase contracts (e.g. SBRI feasibility) are paid

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


def _parse_stage(raw: dict[str, Any], where: str) -> StageSpec:
    key = _req(raw, "key", str, where)
    where = f"{where}, stage `{key}`"
    if "duration_days" not in raw:
        raise TemplateError(f"{where}: `duration_days` is required")
    duration = _positive(raw["duration_days"], where, "duration_days")
    decision = _req(raw, "decision", str, where)
    if decision not in DECISIONS:
        raise TemplateError(f"{where}: `decision` must be one of {', '.join(sorted(DECISIONS))}")
    features = frozenset(raw.get("features", ()))
    if features - FEATURES:
        raise TemplateError(f"{where}: unknown feature(s) {', '.join(sorted(features - FEATURES))}")
    fields = tuple(_parse_field(f, where) for f in raw.get("fields", ()))
    if len({f.key for f in fields}) != len(fields):
        raise TemplateError(f"{where}: two fields share a key")
    documents = []
    for d in raw.get("documents", ()):
        dkey = _req(d, "key", str, where)
        types = tuple(d.get("types", ("pdf",)))
        bad = [t for t in types if t not in MIME_TYPES]
        if bad:
            raise TemplateError(f"{where}, document `{dkey}`: unknown type(s) {', '.join(bad)}")
        documents.append(DocumentSpec(key=dkey, label=_text(d, "label", f"{where}, document `{dkey}`"), types=types,
                                      max_mb=_positive(d.get("max_mb", 10), f"{where}, document `{dkey}`", "max_mb"),
                                      required=bool(d.get("required", False))))
    criteria = []
    for c in raw.get("criteria", ()):
        ckey = _req(c, "key", str, where)
        cwhere = f"{where}, criterion `{ckey}`"
        criteria.append(CriterionSpec(key=ckey, name=_text(c, "name", cwhere), weight=_positive(c.get("weight"), cwhere, "weight"),
                                      scale_max=_positive(c.get("scale_max", 5), cwhere, "scale_max"),
                                      description=_text(c, "description", cwhere, required=False)))
    if criteria and not any(c.key == "team" for c in criteria):
        raise TemplateError(f"{where}: the criteria must include `team` (the team and its motivation)")
    max_selected = raw.get("max_selected")
    if max_selected is not None:
        _positive(max_selected, where, "max_selected")
    return StageSpec(key=key, name=_text(raw, "name", where), description=_text(raw, "description", where, required=False),
                     duration_days=duration,
                     decision=decision, max_selected=max_selected, features=features, fields=fields,
                     documents=tuple(documents), criteria=tuple(criteria), paid=bool(raw.get("paid", False)))


def parse_template(text: str, source: str) -> ProcedureTemplate:
    """Parse and validate one template; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML ({exc})") from None
    tid = _req(data, "id", str, source)
    version = _positive(data.get("version"), source, "version")
    raw_stages = data.get("stages") or []
    if not raw_stages:
        raise TemplateError(f"{source}: a template needs at least one stage")
    stages = tuple(_parse_stage(s, source) for s in raw_stages)
    if len({s.key for s in stages}) != len(stages):
        raise TemplateError(f"{source}: two stages share a key")
    if stages[-1].decision != "award":
        raise TemplateError(f"{source}, stage `{stages[-1].key}`: the last stage must be decided by `award`")
    stage_keys = {s.key for s in stages}
    for s in stages:
        for f in s.fields:
            if f.carry_from and not f.carry_from.startswith("profile.") and f.carry_from.split(".")[0] not in stage_keys:
                raise TemplateError(f"{source}, stage `{s.key}`, field `{f.key}`: `carry_from` names an unknown stage")
    return ProcedureTemplate(id=tid, version=version, name=_text(data, "name", source),
                             description=_text(data, "description", source, required=False), stages=stages, source=source)


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


def allowed(template: ProcedureTemplate, stage_key: str, action: str) -> bool:
    """May `action` happen while `stage_key` is open? Actions map to stage features:
    `ask_question` -> questions, `edit_submission` -> edits, `upload_document` -> documents, `pitch` -> pitch."""
    feature = {"ask_question": "questions", "edit_submission": "edits", "upload_document": "documents", "pitch": "pitch"}.get(action)
    if feature is None:
        raise ValueError(f"unknown action {action!r}")
    return feature in template.stage(stage_key).features


@dataclass(frozen=True)
class ScheduledStage:
    key: str
    opens_at: datetime
    closes_at: datetime


def schedule(template: ProcedureTemplate, start: datetime, closes_at: dict[str, datetime] | None = None,
             gap_days: int = 0) -> list[ScheduledStage]:
    """Stage dates from the template's durations, with explicit `closes_at` overrides per stage.
    A stage opens when the previous one closes (plus `gap_days` for evaluation)."""
    out: list[ScheduledStage] = []
    opens = start
    overrides = closes_at or {}
    for stage in template.stages:
        closes = overrides.get(stage.key) or opens + timedelta(days=stage.duration_days)
        out.append(ScheduledStage(stage.key, opens, closes))
        opens = closes + timedelta(days=gap_days)
    return out


@dataclass(frozen=True)
class DueEvent:
    due_at: datetime
    name: str
    stage: str
    payload: dict[str, Any] = field(default_factory=dict)
