"""Errors on pages: a sign-in redirect when needed, otherwise a friendly page with the status."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.middleware import ASGIMiddleware
from litestar.response import Redirect
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from marketplace.core import i18n
from marketplace.core.db import RETRY_AFTER_SECONDS, is_unavailable
from marketplace.core.errors import (
    PROBLEM_JSON,
    DomainError,
    Forbidden,
    NotAuthenticated,
    unavailable_problem,
)
from marketplace.core.templating import render

log = logging.getLogger("marketplace.web")

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "This page does not exist, or it is not visible to you.",
    405: "This page cannot be used that way.",
    409: "This cannot be done now.",
    413: "What you sent is too large.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
    503: "The marketplace cannot reach its database for a moment. Please try again in a few seconds.",
}

ROLE_LABELS = {
    "civil_servant": "Civil servant",
    "procurement_officer": "Procurement officer",
    "buyer_admin": "Public body administrator",
    "evaluator": "Evaluator",
    "company_member": "Company member",
    "incubator_member": "Incubator member",
    "platform_admin": "Platform administrator",
}


def role_labels(roles: tuple[str, ...] | list[str]) -> str:
    """Roles as people read them, in the current language: "Civil servant, Procurement officer"."""
    return ", ".join(i18n.gettext(ROLE_LABELS.get(r, r)) for r in roles)


def page_to_show(request: Request[Any, Any, Any], path: str) -> str:
    """The nearest page a browser can open at or above `path`: where a reload of a form's post address lands.

    `/challenges/x/request-approval` (post only) gives `/challenges/x`; the root always answers."""
    router = request.app.asgi_router
    while path not in ("", "/"):
        path = path.rstrip("/").rsplit("/", 1)[0] or "/"
        try:
            router.handle_routing(path=path, method="GET")
        except (NotFoundException, MethodNotAllowedException):
            continue
        return path
    return "/"


def page_exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, NotAuthenticated | NotAuthorizedException) and request.method == "GET":
        return Redirect(path=f"/signin?next={quote(request.url.path)}")
    if isinstance(exc, MethodNotAllowedException) and request.method == "GET":
        # the address bar holds a form's post address (a reload after a failed post): no dead end
        return Redirect(path=page_to_show(request, request.url.path), status_code=303)
    if isinstance(exc, Forbidden) and exc.roles:
        status = 403
        detail = i18n.gettext("This page is for these roles: %(roles)s.", roles=role_labels(exc.roles))
    elif isinstance(exc, DomainError):
        status, detail = exc.status, exc.detail
    elif isinstance(exc, PermissionDeniedException):
        status, detail = 403, MESSAGES[403]
        if "CSRF" in str(exc.detail):
            detail = "Your form expired. Go back, reload the page and try again."
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        detail = MESSAGES.get(status, str(exc.detail))
        if status == 403 and "CSRF" in str(exc.detail):
            detail = "Your form expired. Go back, reload the page and try again."
    elif is_unavailable(exc):
        log.warning("database unavailable on page %s: %r", request.url.path, exc)
        return unavailable_page(request.scope)
    else:
        log.exception("unhandled error on page %s", request.url.path, exc_info=exc)
        status, detail = 500, MESSAGES[500]
    html = render(
        "error.html",
        user=request.scope.get("user"),
        locale=i18n.current_locale.get(),
        path=request.url.path,
        status=status,
        detail=detail,
        flash=None,
        csrf_input="",
    )
    return Response(html, status_code=status, media_type="text/html")


def unavailable_page(scope: Any) -> Response[Any]:
    """503 while the database cannot be reached. Rendered without the database (no user menu): it is down."""
    try:
        html = render("error.html", user=None, locale=i18n.current_locale.get(), path=scope.get("path", "/"), status=503,
                      detail=MESSAGES[503], flash=None, csrf_input="")
    except Exception:  # noqa: BLE001 - a template that needs the database must not turn this into a 500
        html = MESSAGES[503]
    return Response(html, status_code=503, media_type="text/html", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class DatabaseUnavailableMiddleware(ASGIMiddleware):
    """A 503 (problem+json on the API, a page elsewhere), not a 500 or a dropped connection, when the database
    cannot be reached before the app could answer: e.g. the session or token lookup that precedes routing."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await next_app(scope, receive, watch)
        except Exception as exc:
            if started or not is_unavailable(exc):
                raise
            path = scope.get("path", "")
            log.warning("database unavailable on %s %s: %r", scope.get("method", ""), path, exc)
            if path.startswith("/api/"):
                response = unavailable_problem()
                body, media_type = msgspec.json.encode(response.content), PROBLEM_JSON
            else:
                from marketplace.core.locale import locale_for

                token = i18n.current_locale.set(locale_for(scope))
                try:
                    response = unavailable_page(scope)
                finally:
                    i18n.current_locale.reset(token)
                body, media_type = response.content.encode(), "text/html; charset=utf-8"
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
            await send({"type": "http.response.body", "body": body, "more_body": False})
