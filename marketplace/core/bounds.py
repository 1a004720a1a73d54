"""Bounds checked at the edge, so that nothing out of range reaches a service or the database.

Every JSON body is decoded strictly (`"100"` is not an integer), no deeper than `MAX_DEPTH`, with
every integer within `MAX_INT` and every date between `EARLIEST` and `LATEST`; query parameters
holding a date or a number go through `parse_moment` and `parse_int`. Each wrong value is a 4xx
naming its field, never a 500 from an overflow later on.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from marketplace.core.errors import DomainError, FieldError, Invalid, invalid

MAX_DEPTH = 32
MAX_INT = 2**53 - 1  # the largest integer every JSON client reads exactly; far above any amount in cents
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)
QUERY_YEARS = (1970, 9000)  # a filter only compares, so it may reach further, short of the calendar's end
_AT = re.compile(r"\s*-\s*at `\$\.?([^`]*)`")


def _date_in_range(value: date, years: tuple[int, int] = (EARLIEST.year, LATEST.year)) -> bool:
    # By year only, before any time-zone arithmetic (which overflows near year 9999).
    return years[0] <= value.year <= years[1]


def out_of_range(value: Any, path: str = "") -> list[FieldError]:
    """Every integer beyond ±MAX_INT and every date outside EARLIEST..LATEST in a decoded value, by field path."""
    errors: list[FieldError] = []
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str | float):
            continue
        if isinstance(item, int):
            if abs(item) > MAX_INT:
                errors.append(FieldError(where or "body", f"must be between {-MAX_INT} and {MAX_INT}"))
        elif isinstance(item, date):
            if not _date_in_range(item):
                errors.append(FieldError(where or "body", f"must be between {EARLIEST.year} and {LATEST.year}"))
        elif isinstance(item, msgspec.Struct):
            stack.extend((getattr(item, f), f"{where}.{f}" if where else f) for f in item.__struct_fields__)
        elif isinstance(item, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k)) for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return sorted(errors, key=lambda e: e.field)


def too_deep(value: Any) -> bool:
    """True when lists and objects nest deeper than MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


def decode_json_body(body: bytes, target: Any) -> None:
    """Check a JSON request body before the handler sees it: 400 when it is not JSON or nests too deep,
    422 naming the field when a value has the wrong type (strictly: `"100"` is not a number) or is out of range."""
    try:
        raw = msgspec.json.decode(body)
    except RecursionError:
        raise _too_deep() from None
    except msgspec.DecodeError:
        raise DomainError(detail="The request body is not valid JSON.", errors=[FieldError("body", "is not valid JSON")],
                          status=400) from None
    if too_deep(raw):
        raise _too_deep()
    value = raw
    if target is not None:
        try:
            value = msgspec.convert(raw, target, strict=True)
        except msgspec.ValidationError as exc:
            try:  # only a strictness problem is ours to report; anything else the framework names itself
                msgspec.convert(raw, target, strict=False)
            except (msgspec.ValidationError, TypeError, ValueError):
                return
            raise _invalid(str(exc)) from None
        except (TypeError, ValueError):  # a type msgspec cannot build without the framework's hooks
            pass
    errors = out_of_range(value)
    if errors:
        raise Invalid(errors)


def _too_deep() -> DomainError:
    return DomainError(detail=f"The request body nests deeper than {MAX_DEPTH} levels.",
                       errors=[FieldError("body", f"nests deeper than {MAX_DEPTH} levels")], status=400)


def _invalid(message: str) -> Invalid:
    located = _AT.search(message)
    return invalid(located.group(1) if located and located.group(1) else "body", _AT.sub("", message).strip())


def parse_moment(name: str, raw: str, require_zone: bool = True) -> datetime:
    """A query parameter holding an RFC 3339 time: aware UTC, within QUERY_YEARS, or 422 naming it."""
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid(name, "must be an RFC 3339 time with a time zone" if require_zone
                      else "is not an ISO 8601 date or date-time") from None
    if value.tzinfo is None:
        if require_zone:
            raise invalid(name, "must be an RFC 3339 time with a time zone")
        value = value.replace(tzinfo=UTC)
    if not _date_in_range(value, QUERY_YEARS):
        raise invalid(name, f"must be between the years {QUERY_YEARS[0]} and {QUERY_YEARS[1]}")
    return value.astimezone(UTC)


def parse_int(name: str, raw: str, low: int, high: int) -> int:
    """A query parameter holding a whole number between `low` and `high`, or 422 naming it."""
    if len(raw) > 20:
        raise invalid(name, f"must be between {low} and {high}")
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "must be a whole number") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value
