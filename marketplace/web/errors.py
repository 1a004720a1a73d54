"""Errors on pages: a sign-in redirect when needed, otherwise a friendly page with the status."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.response import Redirect

from marketplace.core import i18n
from marketplace.core.errors import DomainError, Forbidden, NotAuthenticated
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
