"""HTML forms <-> stage answers: the same validation as the API, with errors placed next to each field."""

from __future__ import annotations

import re
from typing import Any

from marketplace.core.errors import DomainError, FieldError
from marketplace.core.i18n import gettext as _
from marketplace.procedures.engine import StageSpec
from marketplace.web.pages import form_text

MILESTONE_ROWS = 4


def euros_to_cents(text: str) -> int | None | str:
    """'25000', '25 000,50' or '25,000.50' -> cents; '' -> None; anything else -> the text (an error later)."""
    raw = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not raw:
        return None
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d{1,2})?", raw) or re.fullmatch(r"\d+,\d{1,2}", raw):
        raw = raw.replace(".", "").replace(",", ".")
    else:
        raw = raw.replace(",", "")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", raw):
        return text
    whole, _sep, cents = raw.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def answers_from_form(spec: StageSpec, form: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The answers a stage form carries (an empty field clears its answer)."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in spec.fields:
        name = f"f_{f.key}"
        if f.type == "money":
            value = euros_to_cents(form_text(form, name, 40))
            if isinstance(value, str):
                errors.append(FieldError(f"answers.{f.key}", "must be an amount in euros, e.g. 25000"))
                continue
            out[f.key] = None if value is None else {"amount": value, "currency": "EUR"}
        elif f.type == "milestones":
            rows = []
            for i in range(MILESTONE_ROWS):
                title = form_text(form, f"{name}_{i}_title", 200).strip()
                amount = form_text(form, f"{name}_{i}_amount", 40)
                deliverable = form_text(form, f"{name}_{i}_deliverable", 2000).strip()
                if not (title or amount.strip() or deliverable):
                    continue
                cents = euros_to_cents(amount)
                if isinstance(cents, str):
                    errors.append(FieldError(f"answers.{f.key}[{len(rows)}].amount", "must be an amount in euros, e.g. 25000"))
                    cents = None
                row: dict[str, Any] = {"title": title, "deliverable": deliverable}
                if cents is not None:
                    row["amount"] = {"amount": cents, "currency": "EUR"}
                rows.append(row)
            out[f.key] = rows or None
        elif f.type == "boolean":
            out[f.key] = form_text(form, name, 10) == "yes"
        elif f.type == "multichoice":
            raw = form.get(name, [])
            out[f.key] = [v for v in (raw if isinstance(raw, list) else [raw]) if v] or None
        elif f.type == "number":
            text = form_text(form, name, 40).strip()
            try:
                out[f.key] = float(text) if "." in text else int(text) if text else None
            except ValueError:
                errors.append(FieldError(f"answers.{f.key}", "must be a number"))
        else:
            text = form_text(form, name, 20000)
            out[f.key] = text if text.strip() else None
    return out, errors


def form_values(spec: StageSpec, answers: dict[str, Any]) -> dict[str, Any]:
    """What each input shows for the current answers."""
    values: dict[str, Any] = {}
    for f in spec.fields:
        v = answers.get(f.key)
        if f.type == "money":
            values[f.key] = "" if not isinstance(v, dict) else _euros(v.get("amount"))
        elif f.type == "milestones":
            rows = list(v) if isinstance(v, list) else []
            values[f.key] = [
                {"title": r.get("title", ""), "amount": _euros((r.get("amount") or {}).get("amount")) if isinstance(r.get("amount"), dict) else "",
                 "deliverable": r.get("deliverable", "")} if isinstance(r, dict) else {"title": "", "amount": "", "deliverable": ""}
                for r in rows
            ] + [{"title": "", "amount": "", "deliverable": ""}] * max(0, MILESTONE_ROWS - len(rows))
        else:
            values[f.key] = "" if v is None else v
    return values


def _euros(cents: Any) -> str:
    if not isinstance(cents, int):
        return ""
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"


def errors_for_form(exc: DomainError) -> dict[str, str]:
    """`answers.price` -> `price`; `answers.milestones[0].title` -> `milestones` ("Milestone 1, title: ...")."""
    out: dict[str, str] = {}
    for e in exc.errors:
        name = e.field.removeprefix("answers.")
        m = re.match(r"^(\w+)\[(\d+)\](?:\.(\w+))?$", name)
        message = _(e.message)
        if m:
            name = m.group(1)
            message = _("Milestone %(n)s", n=int(m.group(2)) + 1) + (f", {_(m.group(3))}" if m.group(3) else "") + f": {message}"
        out[name] = f"{out[name]} {message}" if name in out else message
    if not out:
        out["_form"] = _(exc.detail)
    return out
