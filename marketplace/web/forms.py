"""Form values into request Structs, with every mistake at once in the reader's words.

msgspec stops at the first wrong field and speaks to programmers ("Expected `str` of length >= 3").
A form instead checks each field on its own and says what to do ("enter at least 3 characters"),
translated, and `errors_by_field` puts the field's label in front.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from marketplace.core.errors import FieldError, Invalid
from marketplace.core.i18n import gettext as _

_RULES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"Expected `str` of length >= (\d+)"),
     lambda n: _("this is required") if n == 1 else _("enter at least %(n)s characters", n=n)),
    (re.compile(r"Expected `str` of length <= (\d+)"), lambda n: _("enter at most %(n)s characters", n=n)),
    (re.compile(r"Expected `(?:array|object)` of length >= (\d+)"),
     lambda n: _("this is required") if n == 1 else _("give at least %(n)s", n=n)),
    (re.compile(r"Expected `(?:array|object)` of length <= (\d+)"), lambda n: _("give at most %(n)s", n=n)),
    (re.compile(r"Expected `(?:int|float)` >= (-?\d+)"), lambda n: _("enter a number of at least %(n)s", n=n)),
    (re.compile(r"Expected `(?:int|float)` > (-?\d+)"), lambda n: _("enter a number greater than %(n)s", n=n)),
    (re.compile(r"Expected `(?:int|float)` <= (-?\d+)"), lambda n: _("enter a number of at most %(n)s", n=n)),
    (re.compile(r"Expected `(?:int|float)` < (-?\d+)"), lambda n: _("enter a number smaller than %(n)s", n=n)),
    (re.compile(r"Expected `int`, got"), lambda: _("enter a whole number")),
    (re.compile(r"Expected `(?:float|decimal)`, got"), lambda: _("enter a number")),
    (re.compile(r"matching regex"), lambda: _("this is not in the expected format")),
    (re.compile(r"Invalid enum value|Invalid value"), lambda: _("choose one of the options")),
    (re.compile(r"missing required field|got `null`"), lambda: _("this is required")),
    (re.compile(r"Expected `(?:date|datetime|time)`|Invalid RFC 3339"), lambda: _("enter a date and time")),
]


def reader_message(validator_message: str) -> str:
    """A msgspec message as a person reads it, in the current language."""
    for pattern, say in _RULES:
        if match := pattern.search(validator_message):
            return say(*(int(g) for g in match.groups()))
    return _("this value is not valid")


def struct_errors(data: dict[str, Any], struct: type, prefix: str = "") -> list[FieldError]:
    """Every wrong field of `data` for `struct`, checked one by one (nested Structs too)."""
    errors: list[FieldError] = []
    for info in msgspec.structs.fields(struct):
        name = f"{prefix}{info.encode_name}"
        if info.encode_name not in data:
            if info.required:
                errors.append(FieldError(name, _("this is required")))
            continue
        value = data[info.encode_name]
        nested = info.type if isinstance(info.type, type) and issubclass(info.type, msgspec.Struct) else None
        if nested is not None and isinstance(value, dict):
            errors.extend(struct_errors(value, nested, f"{name}."))
            continue
        try:
            msgspec.convert(value, info.type, strict=False)
        except msgspec.ValidationError as exc:
            empty = value is None or (isinstance(value, str | list | dict) and not value)
            errors.append(FieldError(name, _("this is required") if empty else reader_message(str(exc))))
    return errors


def convert(data: dict[str, Any], struct: type) -> Any:
    """Build a request Struct from form values; every wrong field becomes a field error in the reader's words."""
    from marketplace.core.bounds import out_of_range

    try:
        value = msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        errors = struct_errors(data, struct) or [FieldError("_form", reader_message(str(exc)))]
        raise Invalid(errors) from None
    if errors := out_of_range(value):
        raise Invalid(errors)
    return value
