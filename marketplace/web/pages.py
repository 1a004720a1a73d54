"""Helpers for page handlers: render a page with the common context, read forms, redirect safely."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from marketplace.core import i18n
from marketplace.core.errors import DomainError, FieldError


def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> Template:
    """Render `templates/<template>` with the user, locale and current path."""
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("notice", request.query_params.get("notice"))
    return Template(
        template_name=template,
        context={"user": request.scope.get("user"), "locale": i18n.current_locale.get(), "path": request.url.path, **context},
        status_code=status_code,
        media_type="text/html",  # also when the handler is annotated `-> Any` (form posts that re-render)
        headers=headers or {},
    )


def errors_by_field(exc: DomainError) -> dict[str, str]:
    """Field name -> message, for showing each message next to its field."""
    out: dict[str, str] = {}
    for e in exc.errors:
        out.setdefault(e.field, i18n.gettext(e.message))
    if not out:
        out["_form"] = i18n.gettext(exc.detail)
    return out


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def see_other(path: str, notice: str | None = None) -> Redirect:
    if notice:
        path += ("&" if "?" in path else "?") + "notice=" + quote(notice)
    return Redirect(path=path, status_code=HTTP_303_SEE_OTHER)


def form_text(form: dict[str, Any], name: str, max_length: int = 5000) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)[:max_length]


def missing(form: dict[str, Any], *names: str) -> list[FieldError]:
    return [FieldError(n, "is required") for n in names if not form_text(form, n).strip()]


def with_cookie(response: Response[Any], name: str, value: str, max_age: int, secure: bool) -> Response[Any]:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")
    return response


def convert(data: dict[str, Any], struct: type) -> Any:
    """Build a request Struct from form values; a msgspec error becomes a field error."""
    import re

    import msgspec

    from marketplace.core.bounds import out_of_range
    from marketplace.core.errors import Invalid

    try:
        value = msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        located = re.search(r"at `\$\.?([^`]*)`", text)
        name = located.group(1) if located else "_form"
        message = re.sub(r"\s*-\s*at `[^`]*`", "", text)
        if message.startswith("Object missing required field"):
            m = re.search(r"`([^`]+)`", message)
            name = (name + "." if name not in ("", "_form") else "") + (m.group(1) if m else "")
            message = "is required"
        raise Invalid([FieldError(name, message)]) from None
    errors = out_of_range(value)
    if errors:
        raise Invalid(errors)
    return value
