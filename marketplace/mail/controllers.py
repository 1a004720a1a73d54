"""Outbox API for platform admins: failed mail, and sending it again."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter

from marketplace.core.auth import allow
from marketplace.mail import admin
from marketplace.mail.schemas import OutboxMessageOut, OutboxPage


class OutboxController(Controller):
    path = "/api/v1/outbox"
    tags = ["mail"]

    @get("/failed", opt=allow("platform_admin"))
    async def failed(self, limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
                     cursor: Annotated[str | None, Parameter(max_length=20)] = None) -> OutboxPage:
        """E-mails that could not be sent after the last attempt, newest first, each with its reason."""
        return await admin.failed_mail(limit, cursor)

    @post("/{message_id:str}/resend", opt=allow("platform_admin"), status_code=200)
    async def resend(self, message_id: str) -> OutboxMessageOut:
        """Send a failed e-mail again (due now, attempts counted afresh); 409 if it is not failed."""
        return await admin.send_again(message_id)
