"""Helpers for page handlers: render a page with the common context, read forms, redirect safely."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from marketplace.core import i18n
from marketplace.core.errors import DomainError, FieldError, Invalid
from marketplace.web.flash import flash_cookie, read_flash, spent_cookie
from marketplace.web.forms import convert  # noqa: F401  (pages import it from here)
from marketplace.web.labels import label_for


def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> Template:
    """Render `templates/<template>` with the user, locale and current path."""
    flash = read_flash(request)
    context.setdefault("flash", flash)
    context.setdefault("errors", flash.errors if flash else {})
    context.setdefault("form", {})
    return Template(
        template_name=template,
        context={"user": request.scope.get("user"), "locale": i18n.current_locale.get(), "path": request.url.path, **context},
        status_code=status_code,
        media_type="text/html",  # also when the handler is annotated `-> Any` (form posts that re-render)
        headers=headers or {},
        cookies=[spent_cookie()] if flash else None,
    )


def errors_by_field(exc: DomainError, labels: dict[str, str] | None = None) -> dict[str, str]:
    """Field name -> message naming the field by its label, in the reader's language, for each wrong field."""
    out: dict[str, str] = {}
    for e in exc.errors:
        message = e.render(i18n.gettext(e.template), i18n.current_locale.get())
        label = label_for(e.field, labels)
        out.setdefault(e.field, i18n.gettext("%(label)s: %(problem)s", label=i18n.gettext(label), problem=message)
                       if label else message)
    if not out:
        out["_form"] = i18n.gettext(exc.detail)
    return out


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def see_other(path: str, notice: str | None = None, *, error: bool = False, errors: dict[str, str] | None = None) -> Redirect:
    """303 to a page (Post/Redirect/Get); `notice` is shown there once, as an error banner when `error`,
    and `errors` (field -> message) mark the fields of that page's form."""
    cookies = [flash_cookie(notice, "error" if error or errors else "success", errors)] if notice else None
    return Redirect(path=path, status_code=HTTP_303_SEE_OTHER, cookies=cookies)


def confirmed(form: dict[str, Any]) -> None:
    """An irreversible action goes ahead only when its box was ticked (pages: the `confirm` macro)."""
    if form_text(form, "confirm", 5) != "yes":
        raise Invalid([FieldError("confirm", "tick the box to confirm")])


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
