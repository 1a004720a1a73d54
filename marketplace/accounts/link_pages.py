"""Pages around the links we mail: ask for a sign-in link or a password reset, open any mailed link
(finish a registration, confirm an address, sign in, choose a new password), resend a confirmation."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from marketplace.accounts import email_links, services
from marketplace.accounts.controllers import RESET_SENT
from marketplace.accounts.pages import CONFIRM_SENT, Form, landing_path, signed_in_redirect
from marketplace.accounts.tables import User
from marketplace.core.auth import PUBLIC, SIGNED_IN, allow, current
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.i18n import gettext as _
from marketplace.web.pages import errors_by_field, form_text, page, see_other

LINK_SENT = "If this address has an account, we sent it a sign-in link. It works once, within 15 minutes."
REQUESTS = {
    # path: (title, explanation, button, what the answer says, what to send)
    "/signin/link": ("Sign in with a link by e-mail", "No password needed: we mail you a link that signs you in on this browser.",
                     "Send me a sign-in link", LINK_SENT, email_links.send_sign_in_link),
    "/password/forgot": ("Choose a new password", "We mail you a link to choose a new password. Every other session then ends.",
                         "Send me a link", RESET_SENT, email_links.send_password_reset_link),
}


def _request_page(request: Request[Any, Any, Any], path: str, **context: Any) -> Template:
    title, explanation, button, _sent, _send = REQUESTS[path]
    return page(request, "accounts/email_request.html", action=path, title=_(title), explanation=_(explanation),
                button=_(button), **context)


@get(list(REQUESTS), opt=allow(PUBLIC), include_in_schema=False)
async def email_request_form(request: Request[Any, Any, Any]) -> Template:
    return _request_page(request, request.url.path)


@post(list(REQUESTS), opt=allow(PUBLIC), include_in_schema=False)
async def email_request(request: Request[Any, Any, Any], data: Form) -> Template:
    path = request.url.path
    email = form_text(data, "email", 254)
    try:
        address = services.normalise_email(email)
    except Invalid as exc:
        return _request_page(request, path, status_code=422, form={"email": email}, errors=errors_by_field(exc))
    await REQUESTS[path][4](address)  # the same answer whether or not the address has an account
    return page(request, "accounts/check_email.html", email=address, message=_(REQUESTS[path][3]))


@get("/links/{token:str}", opt=allow(PUBLIC), include_in_schema=False)
async def link_form(request: Request[Any, Any, Any], token: str) -> Template:
    """Show what the link will do, with a button: opening it does nothing (mail scanners open links)."""
    try:
        link = await email_links.find_link(token)
    except DomainError as exc:
        return page(request, "accounts/link.html", status_code=exc.status, link=None, problem=_(exc.detail), token=token)
    return page(request, "accounts/link.html", link=link, problem=None, token=token)


@post("/links/{token:str}", opt=allow(PUBLIC), include_in_schema=False)
async def link_use(request: Request[Any, Any, Any], token: str, data: Form) -> Any:
    link: dict | None = None
    try:
        link = await email_links.find_link(token)
        purpose = link["purpose"]
        if purpose == email_links.Purpose.register:
            out = await services.confirm_registration(token)
            user = {"id": uuid.UUID(out.user.id), "email": out.user.email}
            return await signed_in_redirect(request, user, "/account", _("Welcome! Your account is ready."))
        if purpose == email_links.Purpose.verify_email:
            user = await email_links.use_confirmation_link(token)
            return await signed_in_redirect(request, user, "/account", _("Your e-mail address is confirmed."))
        if purpose == email_links.Purpose.sign_in:
            user = await email_links.use_sign_in_link(token)
            return await signed_in_redirect(request, user, await landing_path(user["id"]))
        user = await services.reset_password(token, form_text(data, "password", 512))
        return await signed_in_redirect(request, user, "/account", _("Your password is changed. Every other session has ended."))
    except DomainError as exc:
        if isinstance(exc, Invalid) and link is not None:
            return page(request, "accounts/link.html", status_code=exc.status, link=link, problem=None, token=token,
                        errors=errors_by_field(exc))
        return page(request, "accounts/link.html", status_code=exc.status, link=None, problem=_(exc.detail), token=token)


@post("/account/confirm-email", opt=allow(SIGNED_IN), include_in_schema=False)
async def resend_confirmation(request: Request[Any, Any, Any]) -> Any:
    principal = current(request)
    if not principal.email_verified:
        user = await User.select().where(User.id == principal.user_id).first()
        await email_links.send_confirmation_link(user)
    return see_other("/account", _(CONFIRM_SENT))
