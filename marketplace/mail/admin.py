"""Failed mail for platform admins: what could not be sent and why, and sending it again."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.core.clock import rfc3339
from marketplace.core.errors import Conflict, NotFound
from marketplace.mail.schemas import OutboxMessageOut, OutboxPage
from marketplace.mail.services import resend
from marketplace.mail.tables import OutboxMessage

MAX_OFFSET = 1_000_000


def message_out(row: dict[str, Any]) -> OutboxMessageOut:
    return OutboxMessageOut(
        id=str(row["id"]), to_address=row["to_address"], subject=row["subject"], kind=row["kind"], status=row["status"],
        attempts=row["attempts"], last_error=row["last_error"], created_at=rfc3339(row["created_at"]) or "",
        next_attempt_at=rfc3339(row["next_attempt_at"]) if row["status"] != OutboxMessage.Status.sent else None,
    )


async def failed_rows(limit: int, start: int = 0) -> list[dict[str, Any]]:
    """Failed messages, newest first."""
    return await OutboxMessage.select().where(OutboxMessage.status == OutboxMessage.Status.failed).order_by(
        OutboxMessage.created_at, ascending=False).order_by(OutboxMessage.id).offset(start).limit(limit)


async def failed_mail(limit: int = 20, cursor: str | None = None) -> OutboxPage:
    """A page of failed messages; the cursor is opaque to clients."""
    start = min(int(cursor), MAX_OFFSET) if cursor and cursor.isdigit() and len(cursor) <= 7 else 0
    rows = await failed_rows(limit + 1, start)
    more = len(rows) > limit
    return OutboxPage(items=[message_out(r) for r in rows[:limit]], next_cursor=str(start + limit) if more else None)


async def send_again(message_id: str) -> OutboxMessageOut:
    """A failed message becomes due now (404 unknown id, 409 when it is not failed)."""
    try:
        key = uuid.UUID(message_id)
    except ValueError:
        raise NotFound("message") from None
    row = await OutboxMessage.select().where(OutboxMessage.id == key).first()
    if row is None:
        raise NotFound("message")
    if not await resend(key):
        raise Conflict("Only a failed message can be sent again.")
    return message_out(await OutboxMessage.select().where(OutboxMessage.id == key).first())
