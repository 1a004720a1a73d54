"""The outbox delivered through a real SMTP server (aiosmtpd on a loopback port)."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from marketplace.core.clock import now
from marketplace.mail.services import MAX_ATTEMPTS, deliver_due_mail, enqueue_mail
from marketplace.mail.tables import OutboxMessage
from marketplace.worker import run_once


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos, "message": message})
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, **kwargs) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(override_settings):
    """A real SMTP server; SMTP_URL points at it."""
    port = _free_port()
    controller, inbox = _start(port)
    override_settings(smtp_url=f"smtp://127.0.0.1:{port}")
    yield inbox
    controller.stop()


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


async def test_a_welcome_mail_is_delivered_through_smtp_once(smtp, settings):
    await enqueue_mail("lena@triagevoice.be", "welcome", name="Lena Claes", organisation="TriageVoice")

    result = await run_once()  # what the worker does every round
    assert result["marketplace.mail.services.deliver_due_mail"] == 1

    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received["to"] == ["lena@triagevoice.be"]
    assert subject_of(received["message"]) == "Welcome to the innovation marketplace"
    assert "TriageVoice" in received["message"].get_body(("plain",)).get_content()
    assert received["message"]["From"] == settings.mail_from
    row = await OutboxMessage.objects().first()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None

    assert await deliver_due_mail() == 0  # a later round sends nothing again
    assert len(smtp.messages) == 1


async def test_two_workers_at_once_deliver_each_mail_once(smtp):
    for n in range(5):
        await enqueue_mail(f"person{n}@example.be", "welcome", name=f"Person {n}", organisation="Acme")
    counts = await asyncio.gather(deliver_due_mail(), deliver_due_mail(), deliver_due_mail())
    assert sum(counts) == 5
    assert sorted(m["to"][0] for m in smtp.messages) == [f"person{n}@example.be" for n in range(5)]


async def test_mail_waits_with_backoff_while_the_server_is_down_then_goes_out_once(override_settings):
    port = _free_port()  # nothing listens here yet
    override_settings(smtp_url=f"smtp://127.0.0.1:{port}")
    await enqueue_mail("sofie@112.be", "welcome", locale="nl", name="Sofie", organisation="112")
    start = now()

    with time_machine.travel(start, tick=False):
        assert await deliver_due_mail() == 0
    row = await OutboxMessage.objects().first()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error
    assert row.next_attempt_at == start + timedelta(seconds=30)

    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert await deliver_due_mail() == 0  # not due yet: no attempt made
    assert (await OutboxMessage.objects().first()).attempts == 1

    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert await deliver_due_mail() == 0  # still down: the wait doubles
    row = await OutboxMessage.objects().first()
    assert row.attempts == 2
    assert row.next_attempt_at == start + timedelta(seconds=31 + 60)

    controller, inbox = _start(port)
    try:
        with time_machine.travel(start + timedelta(seconds=92)):
            assert await deliver_due_mail() == 1
            assert await deliver_due_mail() == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["to"] == ["sofie@112.be"]
    row = await OutboxMessage.objects().first()
    assert (row.status, row.attempts) == ("sent", 3)


async def test_delivery_gives_up_after_the_last_attempt(override_settings):
    override_settings(smtp_url=f"smtp://127.0.0.1:{_free_port()}")
    await enqueue_mail("nobody@example.be", "welcome", name="Nobody", organisation="Acme")
    moment = now()
    for _ in range(MAX_ATTEMPTS):
        moment += timedelta(hours=7)  # longer than the longest backoff
        with time_machine.travel(moment, tick=False):
            await deliver_due_mail()
    row = await OutboxMessage.objects().first()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    with time_machine.travel(moment + timedelta(days=2), tick=False):
        await deliver_due_mail()
    assert (await OutboxMessage.objects().first()).attempts == MAX_ATTEMPTS


async def test_smtp_login_from_the_url(override_settings):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == b"p@ss word"
        return AuthResult(success=ok)

    port = _free_port()
    controller, inbox = _start(port, authenticator=authenticator, auth_require_tls=False)
    try:
        override_settings(smtp_url=f"smtp://mailer:p%40ss%20word@127.0.0.1:{port}")
        await enqueue_mail("lena@triagevoice.be", "welcome", name="Lena", organisation="TriageVoice")
        assert await deliver_due_mail() == 1
    finally:
        controller.stop()
    assert [m["to"] for m in inbox.messages] == [["lena@triagevoice.be"]]
