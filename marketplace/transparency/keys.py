"""The audit key: authenticates the audit chain and its checkpoints. The database never holds it:
it is `MARKETPLACE_AUDIT_KEY` (or the file `MARKETPLACE_AUDIT_KEY_FILE` names), else derived from
`SECRET_KEY`. Whoever can change the database but not read the servers' environment cannot rewrite
the trail unnoticed."""

from __future__ import annotations

import hashlib
import hmac

from marketplace.settings import get_settings

_cache: tuple[str, bytes] | None = None


def audit_key() -> bytes:
    global _cache
    settings = get_settings()
    source = settings.audit_key or settings.secret_key
    if _cache is None or _cache[0] != source:
        if settings.audit_key:
            key = settings.audit_key.encode()
        else:
            key = hmac.new(settings.secret_key.encode(), b"marketplace audit chain v1", hashlib.sha256).digest()
        _cache = (source, key)
    return _cache[1]


def audit_mac(purpose: str, text: str) -> str:
    """HMAC-SHA-256 of `text` under the audit key, separated by purpose (event, chain, checkpoint)."""
    return hmac.new(audit_key(), f"{purpose}\n{text}".encode(), hashlib.sha256).hexdigest()
