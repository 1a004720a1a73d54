"""Failed mail for platform admins: what could not be sent and why, and sending it again."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.core.clock import rfc3339
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.paging import check_limit, decode_cursor, encode_cursor
from marketplace.mail.schemas import OutboxMessageOut, OutboxPage
from marketplace.mail.services import resend
from marketplace.mail.tables import OutboxMessage


def message_out(row: dict[str, Any]) -> OutboxMessageOut:
    return OutboxMessageOut(
        id=str(row["id"]), to_address=row["to_address"], subject=row["subject"], kind=row["kind"], status=row["status"],
        attempts=row["attempts"], last_error=row["last_error"], created_at=rfc3339(row["created_at"]) or "",
        next_attempt_at=rfc3339(row["next_attempt_at"]) if row["status"] != OutboxMessage.Status.sent else None,
    )


async def failed_rows(limit: int, after: tuple | None = None) -> list[dict[str, Any]]:
    """Failed messages, newest first (after the `(created_at, id)` of the previous page's last one)."""
    query = OutboxMessage.select().where(OutboxMessage.status == OutboxMessage.Status.failed)
    if after is not None:
        query = query.where((OutboxMessage.created_at < after[0])
                            | ((OutboxMessage.created_at == after[0]) & (OutboxMessage.id < after[1])))
    return await query.order_by(OutboxMessage.created_at, OutboxMessage.id, ascending=False).limit(limit)


async def failed_mail(limit: int = 20, cursor: str | None = None) -> OutboxPage:
    """A page of failed messages (`core.paging`: `?limit=` 1-100 and an opaque `?cursor=`)."""
    rows = await failed_rows(check_limit(limit) + 1, decode_cursor(cursor, 2))
    more = len(rows) > limit
    rows = rows[:limit]
    return OutboxPage(items=[message_out(r) for r in rows],
                      next_cursor=encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None)


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
