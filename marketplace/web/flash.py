"""Flash messages: what a form post tells the next page ("Draft saved.", "Not sent: …").

The message travels in a short-lived cookie signed with the server's secret, never in the address:
a link such as `/?notice=Your account was suspended` shows nothing, and reloading the page after
reading the message does not show it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from litestar import Request
from litestar.datastructures import Cookie

from marketplace.settings import get_settings

FLASH_COOKIE = "mp_flash"
MAX_AGE_SECONDS = 120  # long enough for the redirect that follows the post, no longer
Kind = Literal["success", "error"]


@dataclass(frozen=True)
class Flash:
    text: str
    kind: Kind = "success"
    errors: dict[str, str] = field(default_factory=dict)  # field -> message, marked on the next page's form

    @property
    def is_error(self) -> bool:
        return self.kind == "error"


def _signature(payload: str) -> str:
    key = hashlib.sha256(b"flash:" + get_settings().secret_key.encode()).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]


def flash_cookie(text: str, kind: Kind = "success", errors: dict[str, str] | None = None) -> Cookie:
    """The cookie that carries `text` (and the fields to mark) to the next page the browser shows."""
    marked = {k[:60]: v[:300] for k, v in list((errors or {}).items())[:12]}  # a cookie holds about 4 kB
    payload = base64.urlsafe_b64encode(json.dumps({"t": text[:600], "k": kind, "e": marked}).encode()).decode().rstrip("=")
    return Cookie(key=FLASH_COOKIE, value=f"{payload}.{_signature(payload)}", max_age=MAX_AGE_SECONDS, path="/",
                  httponly=True, samesite="lax", secure=get_settings().secure_cookies)


def read_flash(request: Request[Any, Any, Any]) -> Flash | None:
    """The message the previous post left for this page, if its signature holds."""
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _dot, signature = raw.partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        errors = {str(k): str(v) for k, v in dict(data.get("e") or {}).items()}
        return Flash(str(data["t"]), "error" if data.get("k") == "error" else "success", errors)
    except (ValueError, KeyError, TypeError):
        return None


def spent_cookie() -> Cookie:
    """Deletes the flash once a page has shown it."""
    return Cookie(key=FLASH_COOKIE, value="", max_age=0, path="/", httponly=True, samesite="lax",
                  secure=get_settings().secure_cookies)
