"""Outbox API for platform admins: failed mail, and sending it again."""

from __future__ import annotations

from litestar import Controller, get, post

from marketplace.core.auth import allow
from marketplace.mail import admin
from marketplace.mail.schemas import OutboxMessageOut, OutboxPage


class OutboxController(Controller):
    path = "/api/v1/outbox"
    tags = ["mail"]

    @get("/failed", opt=allow("platform_admin"))
    async def failed(self, limit: int = 20, cursor: str | None = None) -> OutboxPage:
        """E-mails that could not be sent after the last attempt, newest first, each with its reason."""
        return await admin.failed_mail(limit, cursor)

    @post("/{message_id:str}/resend", opt=allow("platform_admin"), status_code=200)
    async def resend(self, message_id: str) -> OutboxMessageOut:
        """Send a failed e-mail again (due now, attempts counted afresh); 409 if it is not failed."""
        return await admin.send_again(message_id)
