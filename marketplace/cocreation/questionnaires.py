"""Self-check questionnaires as data (`questionnaires/*.toml`, en/fr/nl), like the procedure templates.

A questionnaire has dimensions (each with roadmap steps for when it is weak) and questions, each
answered on a 1-5 scale. A dimension's score is the mean of its answers mapped to 0-100."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from marketplace.core.i18n import LOCALES

DIRECTORY = Path(__file__).resolve().parent / "questionnaires"
SCALE = range(1, 6)


class QuestionnaireError(ValueError):
    """A broken questionnaire file: the message names the file and the entry."""


Text = dict[str, str]  # one text in every language


@dataclass(frozen=True)
class Step:
    text: Text
    link: str | None


@dataclass(frozen=True)
class Dimension:
    key: str
    name: Text
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Question:
    key: str
    dimension: str
    text: Text


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: Text
    intro: Text
    scale: dict[str, tuple[str, ...]]
    weak_below: int
    dimensions: tuple[Dimension, ...]
    questions: tuple[Question, ...]
    subject: Text | None  # asks which service the answers are about (Co-Serve)
    audience: str = "public_body"  # who answers: a public body about itself, or the parties of an "experiment"


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(lang), str) or not raw[lang].strip() for lang in LOCALES):
        raise QuestionnaireError(f"{where}: needs a text in each of {', '.join(LOCALES)}")
    return {lang: raw[lang] for lang in LOCALES}


def parse(path: Path) -> Questionnaire:
    raw = tomllib.loads(path.read_text())
    name = path.name
    dimensions = tuple(Dimension(key=d["key"], name=_text(d.get("name"), f"{name}: dimension {d.get('key')}"),
                                 steps=tuple(Step(text=_text(s, f"{name}: dimension {d['key']} step {i + 1}"), link=s.get("link"))
                                             for i, s in enumerate(d.get("steps", []))))
                       for d in raw.get("dimensions", []))
    keys = {d.key for d in dimensions}
    questions = []
    for q in raw.get("questions", []):
        if q.get("dimension") not in keys:
            raise QuestionnaireError(f"{name}: question {q.get('key')}: unknown dimension {q.get('dimension')!r}")
        questions.append(Question(key=q["key"], dimension=q["dimension"], text=_text(q.get("text"), f"{name}: question {q['key']}")))
    scale = raw.get("scale", {})
    if any(len(scale.get(lang, [])) != len(SCALE) for lang in LOCALES):
        raise QuestionnaireError(f"{name}: scale needs {len(SCALE)} labels in each of {', '.join(LOCALES)}")
    return Questionnaire(
        id=raw["id"], version=int(raw.get("version", 1)), title=_text(raw.get("title"), f"{name}: title"),
        intro=_text(raw.get("intro"), f"{name}: intro"), scale={lang: tuple(scale[lang]) for lang in LOCALES},
        weak_below=int(raw.get("weak_below", 60)), dimensions=dimensions, questions=tuple(questions),
        subject=_text(raw["subject"], f"{name}: subject") if "subject" in raw else None,
        audience=raw.get("audience", "public_body"))


@cache
def all_questionnaires() -> dict[str, Questionnaire]:
    found = {}
    for path in sorted(DIRECTORY.glob("*.toml")):
        q = parse(path)
        found[q.id] = q
    return found


def get(questionnaire_id: str) -> Questionnaire | None:
    return all_questionnaires().get(questionnaire_id)


def for_public_bodies() -> list[Questionnaire]:
    """The self-checks a public body answers about itself."""
    return [q for q in all_questionnaires().values() if q.audience == "public_body"]


def score(q: Questionnaire, answers: dict[str, int]) -> dict[str, int]:
    """0-100 per dimension: the mean of its answers, (answer - 1) / 4 * 100, rounded half up."""
    out = {}
    for d in q.dimensions:
        values = [answers[x.key] for x in q.questions if x.dimension == d.key]
        out[d.key] = int((sum(v - 1 for v in values) * 100 / (4 * len(values))) + 0.5) if values else 0
    return out


def total(scores: dict[str, int]) -> int:
    return int(sum(scores.values()) / len(scores) + 0.5) if scores else 0
