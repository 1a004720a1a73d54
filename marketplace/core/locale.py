"""Pick the request's language: the `mp_lang` cookie; on the API an Accept-Language we speak; then the user's choice, then Accept-Language."""

from __future__ import annotations

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.core import i18n
from marketplace.core.auth import _cookie

LANG_COOKIE = "mp_lang"


def locale_for(scope: Scope) -> str:
    headers = dict(scope.get("headers", []))
    chosen = _cookie(headers.get(b"cookie", b"").decode("latin-1"), LANG_COOKIE)
    if chosen in i18n.LOCALES:
        return chosen
    asked = i18n.negotiate(headers.get(b"accept-language", b"").decode("latin-1"))
    if asked and scope.get("path", "").startswith("/api/"):
        return asked  # an API client says per request which language its user reads
    principal = scope.get("user")
    if principal is not None and principal.locale in i18n.LOCALES:
        return principal.locale
    return i18n.negotiate(headers.get(b"accept-language", b"").decode("latin-1")) or i18n.DEFAULT_LOCALE


class LocaleMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = i18n.current_locale.set(locale_for(scope))
        try:
            await next_app(scope, receive, send)
        finally:
            i18n.current_locale.reset(token)
