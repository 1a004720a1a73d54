"""One pagination for every list: `?limit=` (1-100, default 20) and an opaque `?cursor=`, answering
`{items, next_cursor}`. Database lists page by keyset (the last row's sort key and id, encoded in the
cursor); short in-memory lists page by position. A cursor that was not made here is a 422 naming it."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from marketplace.core.clock import as_utc
from marketplace.core.errors import invalid

MAX_LIMIT = 100
BAD_CURSOR = "is not a cursor from this list"


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def encode_cursor(*values: Any) -> str:
    """An opaque cursor of the sort key values (datetimes, UUIDs, ints, strings)."""
    parts = []
    for v in values:
        if isinstance(v, datetime):
            parts.append(["t", as_utc(v).isoformat()])
        elif isinstance(v, uuid.UUID):
            parts.append(["u", str(v)])
        elif isinstance(v, int) and not isinstance(v, bool):
            parts.append(["i", v])
        else:
            parts.append(["s", str(v)])
    return base64.urlsafe_b64encode(json.dumps(parts, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, count: int) -> tuple[Any, ...] | None:
    """The values of a cursor made by `encode_cursor` with `count` values; None when there is no cursor."""
    if not cursor:
        return None
    try:
        if len(cursor) > 500:
            raise ValueError
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != count:
            raise ValueError
        out: list[Any] = []
        for kind, value in parts:
            if kind == "t":
                out.append(as_utc(datetime.fromisoformat(value)))
            elif kind == "u":
                out.append(uuid.UUID(value))
            elif kind == "i" and isinstance(value, int) and abs(value) < 2**62:
                out.append(value)
            elif kind == "s" and isinstance(value, str):
                out.append(value)
            else:
                raise ValueError
        return tuple(out)
    except (ValueError, TypeError, json.JSONDecodeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise invalid("cursor", BAD_CURSOR) from None


def page_list(items: list, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """A page of a short list held in memory (position cursor)."""
    check_limit(limit)
    start = decode_cursor(cursor, 1)
    offset = start[0] if start else 0
    if not isinstance(offset, int) or offset < 0:
        raise invalid("cursor", BAD_CURSOR)
    page = items[offset:offset + limit]
    return page, (encode_cursor(offset + limit) if offset + limit < len(items) else None)
