"""Security headers on every response: no framing, no MIME sniffing, same-origin referrers, and a
Content-Security-Policy that forbids framing, <base> and plugins without limiting styles (no
form-action: the payments sandbox answers a form post with a redirect to BASE_URL, maybe another origin)."""

from __future__ import annotations

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'self'; object-src 'none'"),
]


class HeadAsGetMiddleware(ASGIMiddleware):
    """HEAD is answered wherever GET is (uptime monitors use it): the GET handler answers, the body is dropped."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("method") != "HEAD":
            await next_app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await next_app(as_get, receive, send_headers_only)
        finally:
            if "path_template" in as_get:  # the route matched, for the request metrics around this
                scope["path_template"] = as_get["path_template"]


class SecurityHeadersMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in present)]
            await send(message)

        await next_app(scope, receive, send_with_headers)


def content_disposition(filename: str, inline: bool = False) -> str:
    """RFC 6266: a Latin-1-safe `filename` for old clients and the exact name, any script, in `filename*`
    (`бюджет.pdf` downloads as `бюджет.pdf`; a quote or a line break in a name cannot break the header)."""
    from urllib.parse import quote

    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "download"
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
