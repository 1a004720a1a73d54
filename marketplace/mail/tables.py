"""The outbox of e-mails to send, and in-app notifications."""

from enum import Enum

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import User


class OutboxMessage(Table):
    class Status(str, Enum):
        pending = "pending"
        sending = "sending"
        sent = "sent"
        failed = "failed"  # gave up after the last retry

    id = UUID(primary_key=True)
    to_address = Varchar(length=254, index=True)
    subject = Varchar(length=300)
    body_text = Text()
    kind = Varchar(length=60, default="", index=True)
    status = Varchar(length=10, choices=Status, default=Status.pending, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class Notification(Table):
    """An in-app notice shown on the user's notifications page."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    kind = Varchar(length=60)
    title = Varchar(length=300)
    body = Text(default="")
    link = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    read_at = Timestamptz(null=True, default=None)
    # {"msgid": ..., "params": {...}}: the title as written in the code, so that it is shown in the reader's
    # current language; `title` keeps the English text (and older rows only have that).
    wording = Text(default="")
