"""Domain errors and their RFC 9457 problem+json rendering.

Services raise these; the app turns them into `application/problem+json` for the API and into an
error page (or a message next to the field) for the web pages.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from marketplace.core.logs import request_id

log = logging.getLogger("marketplace.errors")

PROBLEM_JSON = "application/problem+json"


@dataclass
class FieldError:
    """One wrong field. `message` may hold `%(name)s` placeholders filled from `params`: the page translates
    the message first, then fills it in the reader's language (amounts given as `Money` read as money);
    `message` itself always reads in English, as the API sends it."""

    field: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    template: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self.template = self.message
        if self.params:
            self.message = self.render(self.message, "en")

    def render(self, message: str, locale: str) -> str:
        """`message` (the template or its translation) with the params filled for `locale`."""
        from marketplace.core.money import Money, format_money

        return message % {k: format_money(v.amount, v.currency, locale) if isinstance(v, Money) else v
                          for k, v in self.params.items()}


@dataclass
class DomainError(Exception):
    """A client's mistake that changes nothing; `status` picks the HTTP status."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400
    title: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


class NotAuthenticated(DomainError):
    def __init__(self, detail: str = "Sign in first: this needs an authenticated user.") -> None:
        super().__init__(detail=detail, status=401)


class Forbidden(DomainError):
    def __init__(self, detail: str = "Your role does not allow this.", roles: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(detail=detail, status=403)
        self.roles = tuple(roles)  # the roles that would be allowed (pages name them in the reader's language)


class NotFound(DomainError):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(detail=f"No such {what}, or it is not visible to you.", status=404)


class Conflict(DomainError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail=detail, errors=errors or [], status=409)


class Invalid(DomainError):
    """422: one or more fields are wrong; each is named."""

    def __init__(self, errors: list[FieldError] | FieldError, detail: str | None = None) -> None:
        errs = [errors] if isinstance(errors, FieldError) else errors
        super().__init__(
            detail=detail or "; ".join(f"{e.field}: {e.message}" for e in errs), errors=errs, status=422
        )


class TooManyRequests(DomainError):
    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail=detail, status=429, headers={"Retry-After": str(retry_after)})


def invalid(field_name: str, message: str) -> Invalid:
    return Invalid([FieldError(field_name, message)])


def problem(status: int, detail: str, errors: list[FieldError] | None = None, title: str | None = None,
            headers: dict[str, str] | None = None) -> Response[Any]:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": f"https://marketplace.example/problems/{phrase.lower().replace(' ', '-')}",
        "title": title or phrase,
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors or []],
    }
    if rid := request_id.get():
        body["request_id"] = rid  # the same id as the log lines and the X-Request-ID header: quote it to us
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or {})


_KEY_RE = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN_RE = re.compile(r"unknown field `([^`]+)`")


def _validation_errors(exc: ValidationException) -> list[FieldError]:
    """Turn Litestar/msgspec validation messages into field errors with JSON-path-like names."""
    out: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else ([exc.extra] if exc.extra else [])
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "is invalid"))
        key = item.get("key") or ""
        unknown = _UNKNOWN_RE.search(message)
        located = _KEY_RE.search(message)
        if unknown:
            prefix = located.group(1) if located else ""
            name = f"{prefix}.{unknown.group(1)}" if prefix else unknown.group(1)
            out.append(FieldError(name, "is not a known field"))
            continue
        if located and located.group(1):
            key = located.group(1)
            message = _KEY_RE.sub("", message).strip(" -")
        if not key and "missing required field" in message:
            m = re.search(r"`([^`]+)`", message)
            key = m.group(1) if m else "body"
            message = "is required"
        out.append(FieldError(str(key) or "body", message))
    if not out:
        out.append(FieldError("body", exc.detail or "is invalid"))
    return out


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


UNDECODABLE_FORM = "A form field sent without a file name is not UTF-8 text: send each file as a part with a file name."


def request_parsing_error(exc: Exception) -> Exception:
    """The client's error behind an exception raised while the framework read the request, as a 400; any other
    exception as it is. Litestar decodes every multipart part sent without a file name as UTF-8 text and raises
    UnicodeDecodeError on other bytes (a file posted without its name): that is bad input, not our bug."""
    if isinstance(exc, UnicodeDecodeError):
        frame = exc.__traceback__
        while frame is not None:
            if frame.tb_frame.f_code.co_filename.endswith(("litestar/_multipart.py", "litestar\\_multipart.py")):
                return DomainError(UNDECODABLE_FORM, [FieldError("body", "a file was sent without a file name")], 400)
            frame = frame.tb_next
    return exc


def api_exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every error the API can raise, as problem+json. A 500 is logged with its traceback."""
    exc = request_parsing_error(exc)
    if isinstance(exc, DomainError):
        return problem(exc.status, exc.detail, exc.errors, exc.title, exc.headers)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        if any("malformed" in e.message.lower() or "json is malformed" in e.message.lower() for e in errors):
            return problem(400, "The request body is not valid JSON.", [FieldError("body", "is not valid JSON")])
        return problem(422, detail, errors)
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, detail, headers=exc.headers)
    from marketplace.core.db import is_unavailable

    if is_unavailable(exc):
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return unavailable_problem()
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Something went wrong on our side. It has been logged; please try again.")


UNAVAILABLE = "The service cannot reach its database for a moment. Please try again in a few seconds."


def unavailable_problem() -> Response[Any]:
    """503 while the database cannot be reached (a restart, a failover): the client may try again."""
    from marketplace.core.db import RETRY_AFTER_SECONDS

    return problem(503, UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def text_response(status: int, detail: str) -> Response[str]:
    return Response(detail, status_code=status, media_type=MediaType.TEXT)
