"""What the API shows of the outbox to platform admins."""

from __future__ import annotations

import msgspec


class OutboxMessageOut(msgspec.Struct):
    id: str
    to_address: str
    subject: str
    kind: str
    status: str
    attempts: int
    last_error: str
    created_at: str
    next_attempt_at: str | None


class OutboxPage(msgspec.Struct):
    items: list[OutboxMessageOut]
    next_cursor: str | None = None
