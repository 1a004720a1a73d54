"""The platform admins' failed-mail page: each message, why it failed, and a button to send it again."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from marketplace.core.auth import allow
from marketplace.core.errors import DomainError
from marketplace.core.i18n import _
from marketplace.mail import admin
from marketplace.web.pages import page, see_other


@get("/admin/mail", opt=allow("platform_admin"), include_in_schema=False)
async def failed_mail_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "mail/outbox.html", failed=await admin.failed_rows(limit=200))


@post("/admin/mail/{message_id:str}/resend", opt=allow("platform_admin"), include_in_schema=False)
async def resend_mail(message_id: str) -> Redirect:
    try:
        message = await admin.send_again(message_id)
    except DomainError as exc:
        return see_other("/admin/mail", _("This e-mail was not found.") if exc.status == 404 else
                         _("Only a failed message can be sent again."))
    return see_other("/admin/mail", _("The e-mail to %(address)s will be sent again.", address=message.to_address))


ROUTES = [failed_mail_page, resend_mail]
