"""Stripe's form encoding (`metadata[key]=v`, `expand[0]=x`) decoded into nested dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_PART = re.compile(r"\[([^\]]*)\]")


def decode_form(body: bytes | str) -> dict[str, Any]:
    """Decode a Stripe form body; dicts whose keys are all 0..n-1 become lists."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + (_PART.findall("[" + rest) if rest else [])
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return _listify(root)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted) and sorted(int(k) for k in converted) == list(range(len(converted))):
            return [converted[str(i)] for i in range(len(converted))]
        return converted
    return value
