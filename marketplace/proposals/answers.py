"""A stage's answers checked against its template: types on every save, completeness and limits on
submission. Each problem names its field (`answers.<key>`), so a form can show it in place."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marketplace.core.errors import FieldError
from marketplace.core.money import MAX_CENTS, format_money
from marketplace.procedures.engine import FieldSpec, ProcedureTemplate, StageSpec

URL_RE = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)


def word_count(text: str) -> int:
    return len(text.split())


def _is_money(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) <= {"amount", "currency"} and isinstance(value.get("amount"), int)
            and not isinstance(value.get("amount"), bool) and 0 <= value["amount"] <= MAX_CENTS and value.get("currency", "EUR") == "EUR")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def _type_errors(spec: FieldSpec, value: Any, name: str) -> list[FieldError]:
    """Is `value` the right shape for the field? (Empty values are fine in a draft.)"""
    if _empty(value):
        return []
    t = spec.type
    if t in {"text", "textarea", "team", "url"}:
        if not isinstance(value, str):
            return [FieldError(name, "must be text")]
    elif t == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            return [FieldError(name, "must be a number")]
    elif t == "boolean":
        if not isinstance(value, bool):
            return [FieldError(name, "must be true or false")]
    elif t == "money":
        if not _is_money(value):
            return [FieldError(name, 'must be an amount in cents, e.g. {"amount": 2500000, "currency": "EUR"}')]
    elif t == "choice":
        if value not in spec.choices:
            return [FieldError(name, f"must be one of {', '.join(spec.choices)}")]
    elif t == "multichoice":
        if not isinstance(value, list) or any(v not in spec.choices for v in value):
            return [FieldError(name, f"must be a list of {', '.join(spec.choices)}")]
    elif t == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return [FieldError(name, "must be a date (YYYY-MM-DD)")]
    elif t == "milestones":
        if not isinstance(value, list):
            return [FieldError(name, "must be a list of milestones")]
        errors = []
        for i, item in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(item, dict) or set(item) - {"title", "amount", "deliverable", "due_in_days"}:
                errors.append(FieldError(where, "must have a title, an amount, a deliverable and optionally due_in_days"))
                continue
            if "amount" in item and not _empty(item["amount"]) and not _is_money(item["amount"]):
                errors.append(FieldError(f"{where}.amount", "must be an amount in cents"))
            for key in ("title", "deliverable"):
                if key in item and not isinstance(item[key], str):
                    errors.append(FieldError(f"{where}.{key}", "must be text"))
            days = item.get("due_in_days")
            if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= 3650):
                errors.append(FieldError(f"{where}.due_in_days", "must be a whole number of days between 1 and 3650"))
        return errors
    return []


def check_draft(stage: StageSpec, answers: dict[str, Any]) -> list[FieldError]:
    """Errors for a draft save: unknown fields and wrong types (limits wait for submission)."""
    errors: list[FieldError] = []
    for key in answers:
        if stage.field(key) is None:
            errors.append(FieldError(f"answers.{key}", f"is not a field of the stage '{stage.name}'"))
    for spec in stage.fields:
        if spec.key in answers:
            errors.extend(_type_errors(spec, answers[spec.key], f"answers.{spec.key}"))
    return errors


def check_submission(stage: StageSpec, answers: dict[str, Any], budget_cap_cents: int) -> list[FieldError]:
    """Everything a submission must satisfy: each missing, too long or out-of-budget field is named."""
    errors = check_draft(stage, answers)
    cap = format_money(budget_cap_cents)
    for spec in stage.fields:
        name = f"answers.{spec.key}"
        value = answers.get(spec.key)
        if _empty(value):
            if spec.required:
                errors.append(FieldError(name, "is required"))
            continue
        if any(e.field.startswith(name) for e in errors):
            continue
        if isinstance(value, str):
            if spec.max_words and word_count(value) > spec.max_words:
                errors.append(FieldError(name, f"has {word_count(value)} words; the limit is {spec.max_words}"))
            if spec.max_chars and len(value) > spec.max_chars:
                errors.append(FieldError(name, f"has {len(value)} characters; the limit is {spec.max_chars}"))
            if spec.type == "url" and not URL_RE.match(value.strip()):
                errors.append(FieldError(name, "must be a web address starting with http:// or https://"))
        if spec.type == "money" and value["amount"] > budget_cap_cents:
            errors.append(FieldError(name, f"exceeds the test budget cap of {cap}"))
        if spec.type == "milestones":
            total = 0
            for i, item in enumerate(value):
                for key in ("title", "deliverable"):
                    if _empty(item.get(key)):
                        errors.append(FieldError(f"{name}[{i}].{key}", "is required"))
                if _empty(item.get("amount")):
                    errors.append(FieldError(f"{name}[{i}].amount", "is required"))
                else:
                    total += item["amount"]["amount"]
            if total > budget_cap_cents:
                errors.append(FieldError(name, f"add up to more than the test budget cap of {cap}"))
    errors.extend(_price_matches_milestones(stage, answers, errors))
    return errors


def _price_matches_milestones(stage: StageSpec, answers: dict[str, Any], errors: list[FieldError]) -> list[FieldError]:
    """When a stage asks for both a price and milestones, the price is what the milestones add up to:
    the mismatch is named on the price field (answers.<price key>)."""
    prices = [f for f in stage.fields if f.type == "money"]
    plans = [f for f in stage.fields if f.type == "milestones"]
    if len(prices) != 1 or len(plans) != 1:
        return []
    price, plan = prices[0], plans[0]
    price_value, plan_value = answers.get(price.key), answers.get(plan.key)
    if _empty(price_value) or _empty(plan_value):
        return []
    if any(e.field.startswith((f"answers.{price.key}", f"answers.{plan.key}")) for e in errors):
        return []
    total = sum(item["amount"]["amount"] for item in plan_value)
    if total == price_value["amount"]:
        return []
    return [FieldError(f"answers.{price.key}",
                       f"is {format_money(price_value['amount'])} but the milestones add up to {format_money(total)}; "
                       "the price must equal the sum of the milestones")]


def prefill(template: ProcedureTemplate, stage_key: str, profile: dict[str, Any],
            earlier: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The answers a new stage starts with: what the company already said (its profile, its earlier
    stages), following each field's `carry_from`. Never typed twice."""
    out: dict[str, Any] = {}
    for spec in template.stage(stage_key).fields:
        if not spec.carry_from:
            continue
        source, _, attr = spec.carry_from.partition(".")
        value = profile.get(attr) if source == "profile" else earlier.get(source, {}).get(attr)
        if not _empty(value):
            out[spec.key] = value
    return out
