"""Pure checks on a challenge's fields: CPV codes, budget cap, schedule, completeness.

They return field errors instead of raising, so that one answer names every problem at once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from marketplace.core.errors import FieldError
from marketplace.core.money import Money
from marketplace.procedures.engine import ProcedureTemplate, ScheduledStage, schedule

CPV_RE = re.compile(r"^(\d{8})-(\d)$")
CPV_DIGITS_RE = re.compile(r"^(\d{8})(?:-\d?)?$")  # eight digits, maybe with a (wrong) check digit
CPV_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)

# The fields a procurement officer needs before publishing, in the editor's order.
REQUIRED_TO_PUBLISH = ("title", "summary", "problem", "affected_users", "desired_outcomes", "topics", "cpv_codes")


def cpv_check_digit(digits: str) -> int:
    """The CPV check digit: the weighted sum (3, 7, 1 repeating) of the eight digits, modulo 10."""
    return sum(int(d) * w for d, w in zip(digits, CPV_WEIGHTS, strict=True)) % 10


def is_cpv_code(code: str) -> bool:
    """`72212000-4`: eight digits, a hyphen and the check digit."""
    match = CPV_RE.match(code)
    return bool(match) and cpv_check_digit(match.group(1)) == int(match.group(2))


def normalise_list(values: list[str], lower: bool = True) -> list[str]:
    """Strip, drop empties and duplicates, keep the order."""
    out: list[str] = []
    for value in values:
        v = " ".join(value.split())
        v = v.lower() if lower else v
        if v and v not in out:
            out.append(v)
    return out


def cpv_errors(codes: list[str], field: str = "cpv_codes") -> list[FieldError]:
    """A wrong code is named; when only its check digit is wrong (or missing), the right one is suggested."""
    errors = []
    for i, code in enumerate(codes):
        if is_cpv_code(code):
            continue
        digits = CPV_DIGITS_RE.match(code.strip())
        if digits:
            right = f"{digits.group(1)}-{cpv_check_digit(digits.group(1))}"
            errors.append(FieldError(f"{field}[{i}]", "%(code)s has a wrong or missing check digit: did you mean %(right)s?",
                                     {"code": code, "right": right}))
        else:
            errors.append(FieldError(f"{field}[{i}]", "%(code)s is not a CPV code (eight digits, a hyphen and the check digit, "
                                                      "e.g. 72212000-4)", {"code": code}))
    return errors


def budget_errors(amount: int, currency: str, ceiling_cents: int) -> list[FieldError]:
    errors = []
    if currency != "EUR":
        errors.append(FieldError("budget_cap.currency", "must be EUR"))
    if amount <= 0:
        errors.append(FieldError("budget_cap.amount", "must be more than zero"))
    elif amount > ceiling_cents:
        errors.append(FieldError("budget_cap.amount", "is above your organisation's ceiling of %(ceiling)s",
                                 {"ceiling": Money(amount=ceiling_cents, currency="EUR")}))
    return errors


def is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def override_errors(template: ProcedureTemplate, overrides: dict[str, datetime], moment: datetime) -> list[FieldError]:
    """Explicit stage deadlines must name the template's stages, carry a time zone and lie ahead."""
    errors = []
    for key, closes_at in overrides.items():
        field = f"schedule.{key}.closes_at"
        if key not in template.stage_keys:
            errors.append(FieldError(f"schedule.{key}", f"is not a stage of the {template.id} procedure ({', '.join(template.stage_keys)})"))
        elif not is_aware(closes_at):
            errors.append(FieldError(field, "must include a time zone (RFC 3339, e.g. 2027-03-01T12:00:00Z)"))
        elif closes_at <= moment:
            errors.append(FieldError(field, "is in the past"))
    return errors


def too_short(min_open: timedelta) -> str:
    """The message for a stage left open less than the procedure's minimum (days, or hours for short stages)."""
    if min_open % timedelta(days=1):
        return f"leaves the stage open less than {int(min_open / timedelta(hours=1))} hours"
    return f"leaves the stage open less than {min_open.days} days"


def plan_stages(template: ProcedureTemplate, start: datetime, overrides: dict[str, datetime], moment: datetime,
                min_days: int) -> tuple[list[ScheduledStage], list[FieldError]]:
    """The stage dates from the template's durations and the explicit deadlines, and what is wrong with them.
    A stage stays open at least the template's minimum (`min_stage_open_hours`), else `min_days` (the platform's)."""
    min_open = template.min_open(min_days)
    stages = schedule(template, start, overrides)
    errors = []
    for stage in stages:
        field = f"schedule.{stage.key}.closes_at"
        if stage.closes_at <= moment:
            errors.append(FieldError(field, "is in the past"))
        elif stage.closes_at <= stage.opens_at:
            errors.append(FieldError(field, "must be after the stage opens (when the previous stage closes)"))
        elif stage.closes_at - stage.opens_at < min_open:
            errors.append(FieldError(field, too_short(min_open)))
    return stages, errors


def default_qa_deadline(stages: list[ScheduledStage]) -> datetime:
    """Questions close two days before the first stage does (or halfway, for a short stage)."""
    first = stages[0]
    return first.closes_at - min(timedelta(days=2), (first.closes_at - first.opens_at) / 2)


def qa_errors(qa_closes_at: datetime, stages: list[ScheduledStage]) -> list[FieldError]:
    if not is_aware(qa_closes_at):
        return [FieldError("qa_closes_at", "must include a time zone")]
    if qa_closes_at <= stages[0].opens_at:
        return [FieldError("qa_closes_at", "must be after publication")]
    if qa_closes_at > stages[-1].closes_at:
        return [FieldError("qa_closes_at", "must not be after the last stage closes")]
    return []


def missing_fields(row: dict) -> list[FieldError]:
    """What a draft still lacks before it can be published."""
    import json

    errors = []
    for name in REQUIRED_TO_PUBLISH:
        value = row[name]
        if name in ("topics", "cpv_codes"):
            value = json.loads(value)
        if not value or (isinstance(value, str) and not value.strip()):
            errors.append(FieldError(name, "is required before publication"))
    return errors
