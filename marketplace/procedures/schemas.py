"""Wire types for procedure templates."""

from __future__ import annotations

import msgspec

from marketplace.procedures import engine
from marketplace.procedures.engine import ProcedureTemplate


class FieldOut(msgspec.Struct):
    key: str
    label: str
    type: str
    required: bool
    help: str
    max_words: int | None
    max_chars: int | None
    choices: list[str]
    carry_from: str | None


class DocumentOut(msgspec.Struct):
    key: str
    label: str
    types: list[str]
    max_mb: int
    required: bool


class ScoreGuidance(msgspec.Struct):
    """What a proposal given `score` on a criterion looks like, in the reader's language."""

    score: int
    text: str


def guidance_out(spec: engine.CriterionSpec) -> list[ScoreGuidance]:
    return [ScoreGuidance(score=level, text=text.local()) for level, text in spec.guidance]


class CriterionOut(msgspec.Struct):
    key: str
    name: str
    weight: int
    scale_max: int
    guidance: list[ScoreGuidance] = msgspec.field(default_factory=list)  # some or all scores 0..scale_max


class StageOut(msgspec.Struct):
    key: str
    name: str
    description: str
    duration_days: int
    decision: str
    max_selected: int | None
    paid: bool
    features: list[str]
    fields: list[FieldOut]
    documents: list[DocumentOut]
    criteria: list[CriterionOut]
    cap_percent: int | None = None  # a paid stage's contracts: at most this share of the budget cap
    max_advancing: int | None = None  # how many may advance (None: no cap)
    decision_rule: str = ""  # the decision kind in a sentence, in the reader's language
    duration_hours: int | None = None  # a short stage: open this many hours (then `duration_days` is 0)
    team_min_members: int | None = None  # `team`: at least this many named members to submit
    team_mixed: bool = False  # `team`: at least one member from a university, civil society or a public body
    panel: str = "evaluators"  # who scores the stage: "evaluators" or "jury"
    require_one_of: list[str] = []  # field or document keys: a submission needs at least one of them


class ProcedureOut(msgspec.Struct):
    id: str
    version: int
    name: str
    description: str
    stages: list[StageOut]
    min_stage_open_hours: int | None = None  # the template's own minimum; None: the platform's (in days)


def procedure_out(t: ProcedureTemplate) -> ProcedureOut:
    return ProcedureOut(
        id=t.id, version=t.version, name=str(t.name), description=str(t.description),
        stages=[
            StageOut(
                key=s.key, name=str(s.name), description=str(s.description), duration_days=s.duration_days, decision=s.decision,
                max_selected=s.max_selected, paid=s.paid, features=sorted(s.features),
                fields=[FieldOut(key=f.key, label=str(f.label), type=f.type, required=f.required, help=str(f.help), max_words=f.max_words,
                                 max_chars=f.max_chars, choices=list(f.choices), carry_from=f.carry_from) for f in s.fields],
                documents=[DocumentOut(key=d.key, label=str(d.label), types=list(d.types), max_mb=d.max_mb, required=d.required)
                           for d in s.documents],
                criteria=[CriterionOut(key=c.key, name=str(c.name), weight=c.weight, scale_max=c.scale_max, guidance=guidance_out(c))
                          for c in s.criteria],
                cap_percent=s.cap_percent, max_advancing=engine.advance_cap(s), decision_rule=engine.decision_rule(s),
                duration_hours=s.duration_hours, team_min_members=s.team_min_members, team_mixed=s.team_mixed, panel=s.panel,
                require_one_of=list(s.require_one_of),
            )
            for s in t.stages
        ],
        min_stage_open_hours=t.min_stage_open_hours,
    )
