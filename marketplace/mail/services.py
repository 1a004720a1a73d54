"""Write e-mails to the outbox (inside the caller's transaction) and deliver them with retries."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib

from marketplace.core.clock import now
from marketplace.core.templating import render
from marketplace.mail.tables import Notification, OutboxMessage
from marketplace.settings import get_settings

log = logging.getLogger("marketplace.mail")

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120


async def enqueue_mail(to: str, template: str, locale: str = "en", **context: object) -> None:
    """Queue the e-mail `templates/mail/<template>.txt` (first line `Subject: ...`) for `to`.

    Call it inside the transaction that makes the change the e-mail reports: both land or neither.
    """
    rendered = render(f"mail/{template}.txt", locale=locale, base_url=get_settings().base_url, **context)
    first, _, body = rendered.partition("\n")
    subject = first.removeprefix("Subject:").strip()
    await OutboxMessage.insert(
        OutboxMessage(to_address=to, subject=subject, body_text=body.strip() + "\n", kind=template)
    )


async def notify(user_id: object, kind: str, title: str, body: str = "", link: str = "") -> None:
    """An in-app notification for one user (shown on the notifications page)."""
    await Notification.insert(Notification(user=user_id, kind=kind, title=title, body=body, link=link))


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


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min, ... capped at 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


async def _claim(message_id: object) -> bool:
    """Take one message for sending; False if another worker has it (works on both engines)."""
    moment = now()
    claimed = await OutboxMessage.update(
        {OutboxMessage.status: OutboxMessage.Status.sending, OutboxMessage.claimed_until: moment + timedelta(seconds=CLAIM_SECONDS)}
    ).where(
        (OutboxMessage.id == message_id)
        & (
            ((OutboxMessage.status == OutboxMessage.Status.pending) & (OutboxMessage.next_attempt_at <= moment))
            | ((OutboxMessage.status == OutboxMessage.Status.sending) & (OutboxMessage.claimed_until < moment))
        )
    ).returning(OutboxMessage.id)
    return bool(claimed)


async def _send(message: dict, target: SmtpTarget | None) -> None:
    settings = get_settings()
    if target is None:
        log.info("mail (no SMTP_URL set) to=%s subject=%s\n%s", message["to_address"], message["subject"], message["body_text"])
        return
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message["to_address"]
    email["Subject"] = message["subject"]
    email["Message-ID"] = f"<{message['id']}@marketplace>"
    email.set_content(message["body_text"])
    await aiosmtplib.send(
        email,
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.use_tls,
        start_tls=target.start_tls,
        timeout=20,
    )


async def deliver_due_mail(limit: int = 50) -> int:
    """Send what is due; reschedule failures with backoff. Returns how many were sent."""
    settings = get_settings()
    target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
    moment = now()
    due = await OutboxMessage.select().where(
        ((OutboxMessage.status == OutboxMessage.Status.pending) & (OutboxMessage.next_attempt_at <= moment))
        | ((OutboxMessage.status == OutboxMessage.Status.sending) & (OutboxMessage.claimed_until < moment))
    ).order_by(OutboxMessage.next_attempt_at).limit(limit)
    sent = 0
    for message in due:
        if not await _claim(message["id"]):
            continue
        attempts = message["attempts"] + 1
        try:
            await _send(message, target)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            give_up = attempts >= MAX_ATTEMPTS
            log.warning("mail %s to %s failed (attempt %d): %s", message["id"], message["to_address"], attempts, exc)
            await OutboxMessage.update(
                {
                    OutboxMessage.status: OutboxMessage.Status.failed if give_up else OutboxMessage.Status.pending,
                    OutboxMessage.attempts: attempts,
                    OutboxMessage.last_error: str(exc)[:2000],
                    OutboxMessage.next_attempt_at: now() + retry_delay(attempts),
                    OutboxMessage.claimed_until: None,
                }
            ).where(OutboxMessage.id == message["id"])
            continue
        await OutboxMessage.update(
            {
                OutboxMessage.status: OutboxMessage.Status.sent,
                OutboxMessage.attempts: attempts,
                OutboxMessage.sent_at: now(),
                OutboxMessage.claimed_until: None,
            }
        ).where(OutboxMessage.id == message["id"])
        sent += 1
    return sent
