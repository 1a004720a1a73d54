"""Notifications: in the reader's current language, read and unread with a count in the header, and
everyone told what concerns them (an evaluator when assigned)."""

from __future__ import annotations

import re

from marketplace.mail.services import notify
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import csrf_token, make_org, make_user, signed_in_client, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge


async def test_a_notification_reads_in_the_language_the_reader_uses_now(client):
    lena = await make_user("company_member", locale="en")
    await notify(lena.id, "challenge_amended", "Amended: %(title)s", "", "/challenges", title="Triage")
    await signed_in_client(client, lena)
    assert "Amended: Triage" in (await client.get("/notifications")).text
    client.cookies.set("mp_lang", "nl")
    dutch = (await client.get("/notifications")).text
    assert "Gewijzigd: Triage" in dutch and "Amended: Triage" not in dutch
    client.cookies.set("mp_lang", "fr")
    assert "Modifié : Triage" in (await client.get("/notifications")).text


async def test_unread_notifications_are_counted_in_the_header_and_read_when_opened(client):
    lena = await make_user("company_member")
    for title in ("One", "Two"):
        await notify(lena.id, "challenge_amended", "Amended: %(title)s", "", "/challenges", title=title)
    await signed_in_client(client, lena)
    header = (await client.get("/account")).text
    assert re.search(r'Notifications <span class="badge">2<span class="visually-hidden"> unread', header)
    first = await Notification.select(Notification.id).first()
    opened = await client.get(f"/notifications/{first['id']}")
    assert opened.status_code == 303 and opened.headers["location"] == "/challenges"
    assert 'class="badge">1<' in (await client.get("/account")).text
    done = await client.post("/notifications/read", data={"_csrf_token": await csrf_token(client, "/notifications")})
    assert done.status_code == 303
    assert 'class="badge"' not in (await client.get("/notifications")).text
    assert await Notification.count().where(Notification.read_at.is_null()) == 0


async def test_someone_elses_notification_cannot_be_opened(client):
    lena = await make_user("company_member")
    other = await make_user("company_member")
    await notify(other.id, "challenge_amended", "Amended: %(title)s", "", "/challenges", title="X")
    row = await Notification.select(Notification.id).first()
    await signed_in_client(client, lena)
    assert (await client.get(f"/notifications/{row['id']}")).status_code == 404
    assert await Notification.count().where(Notification.read_at.is_null()) == 1


async def test_an_evaluator_is_told_when_assigned(client):
    buyer = await make_org("public_body")
    team = await make_buyer_team(buyer)
    challenge = await make_open_challenge(buyer)
    ines = await make_user("evaluator", org=buyer, locale="fr")
    assigned = await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=await token_for(team["civil_servant"]),
                                 json={"user_id": str(ines.id)})
    assert assigned.status_code == 201, assigned.text
    note = await Notification.select().where(Notification.user == ines.id).first()
    assert note["kind"] == "evaluator_assigned" and note["link"] == f"/challenges/{challenge.id}/declaration"
    mail = await OutboxMessage.select().where(OutboxMessage.to_address == ines.email).first()
    assert mail["subject"].startswith("Vous évaluez")


async def test_no_menu_shows_the_same_words_twice_in_any_language(client):
    everyone = await make_org("company")
    user = await make_user("company_member", "incubator_member", org=everyone)
    await signed_in_client(client, user)
    for lang in ("en", "fr", "nl"):
        client.cookies.set("mp_lang", lang)
        page = (await client.get("/account")).text
        nav = page.split('<ul class="nav">')[1].split("</ul>")[0]
        labels = [re.sub(r"<[^>]+>|\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", nav, flags=re.S)]
        assert len(labels) == len(set(labels)), (lang, labels)
