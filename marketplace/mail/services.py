"""Write e-mails to the outbox (inside the caller's transaction) and deliver them with retries."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from functools import lru_cache
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib

from marketplace.core.clock import now
from marketplace.core.i18n import gettext, in_locale
from marketplace.core.retries import Backoff, RetryQueue
from marketplace.mail.compose import compose, html_body
from marketplace.mail.tables import Notification, OutboxMessage
from marketplace.settings import get_settings

log = logging.getLogger("marketplace.mail")

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


async def enqueue_mail(to: str, template: str, locale: str = "en", **context: object) -> None:
    """Queue the e-mail `templates/mail/<template>.txt` (first line `Subject: ...`) for `to`.

    Call it inside the transaction that makes the change the e-mail reports: both land or neither.
    """
    base_url = get_settings().base_url
    body = compose(template, locale, base_url=base_url, **context).text
    # The subject again with every text on one line, so that a name with a line break stays in the subject.
    one_line = {k: header_text(v, 10_000) if isinstance(v, str) else v for k, v in context.items()}
    subject = header_text(compose(template, locale, base_url=base_url, **one_line).subject)
    await OutboxMessage.insert(OutboxMessage(to_address=to, subject=subject, body_text=body, kind=template))


async def notify(user_id: object, kind: str, heading: str, /, body: str = "", link: str = "", **params: object) -> None:
    """An in-app notification for one user (shown on the notifications page and counted in the header).

    `heading` is the English message as marked in the code (`N_("New question on %(title)s")`), filled from
    `params`: it is shown in the language the reader uses when they read it, not when it was written."""
    values = {k: str(v) for k, v in params.items()}
    english = heading % values if values else heading
    await Notification.insert(Notification(user=user_id, kind=kind, title=english[:300], body=body, link=link,
                                           wording=json.dumps({"msgid": heading, "params": values})))


def notification_title(row: dict) -> str:
    """A notification's title in the current language (older rows: as stored)."""
    if not row.get("wording"):
        return row["title"]
    wording = json.loads(row["wording"])
    return gettext(wording["msgid"], **wording["params"])


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:port?starttls=1` or `smtps://...` (implicit TLS)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"smtp", "smtps"} or not parsed.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@host:port")
    query = parse_qs(parsed.query)
    return SmtpTarget(
        host=parsed.hostname,
        port=parsed.port or (465 if parsed.scheme == "smtps" else 25),
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        use_tls=parsed.scheme == "smtps",
        start_tls=query.get("starttls", ["0"])[0] in {"1", "true", "yes"},
    )


DELIVERY = RetryQueue(
    table=OutboxMessage, status=OutboxMessage.status, ready=(OutboxMessage.Status.pending,),
    working=OutboxMessage.Status.sending, failed=OutboxMessage.Status.failed,
    backoff=Backoff(first=timedelta(seconds=30), cap=timedelta(hours=6)),  # 30 s, 1 min, 2 min, ... 6 h
    claim_for=timedelta(seconds=CLAIM_SECONDS), max_attempts=MAX_ATTEMPTS,
)


def header_text(value: str, limit: int = 300) -> str:
    """User text made safe for a header: control characters (CR and LF included) become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def build_email(message: dict, sender: str) -> EmailMessage:
    """The e-mail of one outbox row; a header value never carries a line break, whatever the user typed."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message["to_address"]
    email["Subject"] = header_text(message["subject"])
    email["Message-ID"] = f"<{message['id']}@marketplace>"
    email.set_content(message["body_text"])
    email.add_alternative(html_body(email["Subject"], message["body_text"]), subtype="html")
    return email


async def _send(message: dict, target: SmtpTarget) -> None:
    await aiosmtplib.send(
        build_email(message, get_settings().mail_from),
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.use_tls,
        start_tls=target.start_tls,
        timeout=20,
    )


@lru_cache(maxsize=1)
def _say_mail_stays_in_outbox() -> None:
    log.warning("SMTP_URL is not set: e-mail stays pending in the outbox (table outbox_message) until it is")


async def deliver_due_mail(limit: int = 50) -> int:
    """Send what is due, oldest first; returns how many were sent.

    Any error of one message (SMTP refusal, a header the e-mail library rejects, a bug) is that
    message's: it is retried with backoff and, after the last attempt, marked `failed` with the
    reason, which platform admins see on /admin/mail and can send again.
    """
    settings = get_settings()
    if not settings.smtp_url:
        # Nowhere to send: the mail stays pending in the outbox, and nothing of it is logged
        # (bodies carry invitation, sign-in and reset links).
        _say_mail_stays_in_outbox()
        return 0
    target = parse_smtp_url(settings.smtp_url)

    async def attempt(message: dict) -> bool:
        await _send(message, target)
        await OutboxMessage.update({
            OutboxMessage.status: OutboxMessage.Status.sent, OutboxMessage.sent_at: now(),
            OutboxMessage.claimed_until: None, OutboxMessage.last_error: "",
        }).where(OutboxMessage.id == message["id"])
        return True

    return await DELIVERY.run(attempt, limit)


async def resend(message_id: object) -> bool:
    """A platform admin sends a failed message again: it is due now, with a fresh count of attempts."""
    again = await OutboxMessage.update({
        OutboxMessage.status: OutboxMessage.Status.pending, OutboxMessage.attempts: 0,
        OutboxMessage.next_attempt_at: now(), OutboxMessage.claimed_until: None,
    }).where((OutboxMessage.id == message_id) & (OutboxMessage.status == OutboxMessage.Status.failed)).returning(OutboxMessage.id)
    return bool(again)


async def tell_members(organisation_id: object, role: str, kind: str, link: str, heading: str,
                       body: Callable[[], str] = str, words: dict[str, str] | None = None, **mail: object) -> int:
    """Every `role` member of an organisation gets an in-app notification and the e-mail
    `templates/mail/<kind>.txt` in their own language. `heading` is the English message marked with `N_()`,
    filled from `words` and shown in the reader's language when read; `body` is called in each member's language."""
    from marketplace.accounts.tables import Membership

    words = words or {}
    members = await Membership.select(Membership.user.id, Membership.user.email, Membership.user.locale).where(
        (Membership.organisation == organisation_id) & (Membership.role == role))
    for m in members:
        with in_locale(m["user.locale"]):
            text = body()
        await notify(m["user.id"], kind, heading, text, link, **words)
        await enqueue_mail(m["user.email"], kind, locale=m["user.locale"], link=link, **words, **mail)
    return len(members)
