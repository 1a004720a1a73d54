"""The outbox is fault-isolated: one message that can never be sent is that message's problem alone,
and platform admins see what failed, why, and can send it again."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from marketplace.core.clock import now
from marketplace.mail.services import MAX_ATTEMPTS, deliver_due_mail, enqueue_mail
from marketplace.mail.tables import OutboxMessage
from tests.factories import csrf_token, make_user, signed_in_client, token_for
from tests.test_mail_smtp import smtp, subject_of  # noqa: F401 - the real SMTP server fixture


async def _poison_first() -> None:
    """A message the e-mail library refuses (a line break inside an address), oldest of all."""
    await OutboxMessage.insert(OutboxMessage(to_address="poison\r@example.be", subject="Hello", body_text="x\n",
                                             kind="welcome", next_attempt_at=now() - timedelta(hours=1)))


async def test_one_poison_message_among_50_good_ones_delays_none_of_them(smtp):  # noqa: F811
    await _poison_first()
    for n in range(50):
        await enqueue_mail(f"person{n}@example.be", "welcome", name=f"Person {n}", organisation="Acme")

    sent = await deliver_due_mail() + await deliver_due_mail()  # two rounds, at once: no backoff waited for
    assert sent == 50
    assert sorted(m["to"][0] for m in smtp.messages) == sorted(f"person{n}@example.be" for n in range(50))

    poison = await OutboxMessage.objects().where(OutboxMessage.to_address == "poison\r@example.be").first()
    assert (poison.status, poison.attempts) == ("pending", 1)
    assert poison.next_attempt_at > now()  # rescheduled: it is no longer first in line
    assert "ValueError" in poison.last_error

    moment = now()
    for _ in range(MAX_ATTEMPTS):
        moment += timedelta(hours=7)
        with time_machine.travel(moment, tick=False):
            await deliver_due_mail()
    poison = await OutboxMessage.objects().where(OutboxMessage.to_address == "poison\r@example.be").first()
    assert (poison.status, poison.attempts) == ("failed", MAX_ATTEMPTS)
    assert "ValueError" in poison.last_error
    statuses = await OutboxMessage.select(OutboxMessage.status).where(OutboxMessage.id != poison.id)
    assert {r["status"] for r in statuses} == {"sent"} and len(statuses) == 50


async def test_a_name_with_line_breaks_cannot_add_headers(smtp):  # noqa: F811
    await enqueue_mail("lena@triagevoice.be", "invitation", organisation="Poison\rCo\nBcc: victim@example.be",
                       inviter="Ann", role="company_member", token="t0k3n", expires_at=now() + timedelta(days=7))
    assert await deliver_due_mail() == 1
    message = smtp.messages[0]
    assert message["to"] == ["lena@triagevoice.be"]
    assert subject_of(message["message"]) == "You are invited to join Poison Co Bcc: victim@example.be"
    assert message["message"]["Bcc"] is None
    assert "Poison" in message["message"].get_body(("plain",)).get_content()


async def _failed_message() -> OutboxMessage:
    await _poison_first()
    row = await OutboxMessage.objects().first()
    await OutboxMessage.update({OutboxMessage.status: "failed", OutboxMessage.attempts: MAX_ATTEMPTS,
                                OutboxMessage.last_error: "ValueError: header contains a line break"}).where(
        OutboxMessage.id == row.id)
    return row


async def test_platform_admins_list_failed_mail_and_send_it_again_through_the_api(client):
    row = await _failed_message()
    await enqueue_mail("fine@example.be", "welcome", name="Fine", organisation="Acme")
    admin = await token_for(await make_user(admin=True))

    listed = await client.get("/api/v1/outbox/failed", headers=admin)
    assert listed.status_code == 200
    assert [(m["id"], m["attempts"], m["last_error"]) for m in listed.json()["items"]] == [
        (str(row.id), MAX_ATTEMPTS, "ValueError: header contains a line break")]

    again = await client.post(f"/api/v1/outbox/{row.id}/resend", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "pending" and again.json()["attempts"] == 0
    assert (await client.get("/api/v1/outbox/failed", headers=admin)).json()["items"] == []
    twice = await client.post(f"/api/v1/outbox/{row.id}/resend", headers=admin)
    assert twice.status_code == 409 and twice.headers["content-type"].startswith("application/problem+json")
    assert (await client.post("/api/v1/outbox/not-an-id/resend", headers=admin)).status_code == 404

    company = await token_for(await make_user("company_member"))
    assert (await client.get("/api/v1/outbox/failed", headers=company)).status_code == 403
    assert (await client.post(f"/api/v1/outbox/{row.id}/resend", headers=company)).status_code == 403
    assert (await client.get("/api/v1/outbox/failed")).status_code == 401


async def test_the_failed_mail_page_shows_the_reason_and_sends_again_in_french(client):
    row = await _failed_message()
    await signed_in_client(client, await make_user(admin=True))
    client.cookies.set("mp_lang", "fr")
    page = await client.get("/admin/mail")
    assert page.status_code == 200
    assert "E-mails en échec" in page.text and "ValueError: header contains a line break" in page.text
    token = await csrf_token(client, "/admin/mail")
    sent = await client.post(f"/admin/mail/{row.id}/resend", data={"_csrf_token": token})
    assert sent.status_code == 303
    assert (await OutboxMessage.objects().where(OutboxMessage.id == row.id).first()).status == "pending"
    assert "Aucun e-mail en échec" in (await client.get(sent.headers["location"])).text


async def test_failed_mail_pages_newest_first_with_an_opaque_cursor(client):
    moment = now()
    for n in range(3):
        await OutboxMessage.insert(OutboxMessage(to_address=f"gone{n}@example.be", subject="Hello", body_text="x\n",
                                                 status="failed", created_at=moment - timedelta(minutes=n)))
    admin = await token_for(await make_user(admin=True))
    first = (await client.get("/api/v1/outbox/failed", params={"limit": 2}, headers=admin)).json()
    rest = (await client.get("/api/v1/outbox/failed", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin)).json()
    assert [m["to_address"] for m in first["items"] + rest["items"]] == ["gone0@example.be", "gone1@example.be", "gone2@example.be"]
    assert rest["next_cursor"] is None
    forged = await client.get("/api/v1/outbox/failed", params={"cursor": "bm9wZQ"}, headers=admin)
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "cursor"
