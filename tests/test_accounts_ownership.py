"""Accounts belong to their owners: confirmed addresses, password reset, invitations that cannot be
used to squat an address or relay phishing, names without control characters, create-admin, the outbox."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine

from marketplace.accounts.tables import ApiToken, Invitation, Membership, User, WebSession
from marketplace.core.clock import now
from marketplace.mail.tables import OutboxMessage
from tests.factories import (
    PASSWORD,
    csrf_token,
    mailed_link,
    make_org,
    make_user,
    signed_in_client,
    token_for,
)
from tests.test_accounts_api import REGISTRATION

NEW_PASSWORD = "a brand new passphrase for marc"


async def _me(client, headers) -> dict:
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_password_reset_works_once_within_an_hour_and_ends_every_session_and_token(client, app):
    import httpx

    marc = await make_user("procurement_officer", email="marc@112.be")
    api = await token_for(marc)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.0.1", 1)), base_url="http://testserver") as browser:
        await signed_in_client(browser, marc)
        assert (await browser.get("/account")).status_code == 200

        known = await client.post("/api/v1/auth/password-reset", json={"email": "Marc@112.be"})
        unknown = await client.post("/api/v1/auth/password-reset", json={"email": "nobody@112.be"})
        assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
        assert await OutboxMessage.count().where(OutboxMessage.to_address == "nobody@112.be") == 0
        token = await mailed_link("marc@112.be", "password_reset")

        weak = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "Password1!"})
        assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
        done = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 204
        again = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD + "!"})
        assert again.status_code == 409

        assert (await client.get("/api/v1/me", headers=api)).status_code == 401  # every API token ended
        assert (await browser.get("/account")).status_code == 302  # every session ended
        assert await WebSession.count() == 0 and await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 0
        assert await OutboxMessage.exists().where((OutboxMessage.to_address == "marc@112.be") & (OutboxMessage.kind == "password_changed"))
        old = await client.post("/api/v1/auth/tokens", json={"email": "marc@112.be", "password": PASSWORD})
        new = await client.post("/api/v1/auth/tokens", json={"email": "marc@112.be", "password": NEW_PASSWORD})
        assert old.status_code == 401 and new.status_code == 201

    await client.post("/api/v1/auth/password-reset", json={"email": "marc@112.be"})
    late = await mailed_link("marc@112.be", "password_reset")
    with time_machine.travel(now() + timedelta(minutes=61)):
        expired = await client.post("/api/v1/auth/password-reset/confirm", json={"token": late, "password": NEW_PASSWORD + " again"})
        assert expired.status_code == 409


async def test_password_reset_through_the_pages(client):
    eva = await make_user("company_member", locale="nl")
    csrf = await csrf_token(client, "/password/forgot")
    asked = await client.post("/password/forgot", data={"email": eva.email, "_csrf_token": csrf})
    assert asked.status_code == 200 and "Check your e-mail" in asked.text
    link = await mailed_link(eva.email, "password_reset")
    form = await client.get(f"/links/{link}")
    assert form.status_code == 200 and 'name="password"' in form.text
    weak = await client.post(f"/links/{link}", data={"password": "marketplace", "_csrf_token": csrf})
    assert weak.status_code == 422 and 'id="f-password-error"' in weak.text
    saved = await client.post(f"/links/{link}", data={"password": NEW_PASSWORD, "_csrf_token": csrf})
    assert saved.status_code == 303 and (await client.get("/account")).status_code == 200


async def test_a_known_address_cannot_be_flooded_with_links(client):
    user = await make_user("company_member")
    answers = await asyncio.gather(*(client.post("/api/v1/auth/password-reset", json={"email": user.email}) for _ in range(10)))
    assert {a.status_code for a in answers} == {202}
    assert await OutboxMessage.count().where(OutboxMessage.to_address == user.email) <= 3


async def test_an_unconfirmed_account_acts_for_nobody_until_its_owner_confirms(client):
    squatter = await make_user("buyer_admin", verified=False)  # e.g. an account from before addresses were confirmed
    headers = await token_for(squatter)
    me = await _me(client, headers)
    assert me["roles"] == [] and me["user"]["email_verified"] is False
    refused = await client.post(f"/api/v1/organisations/{squatter.org.id}/invitations", headers=headers,
                                json={"email": "friend@example.be", "role": "buyer_admin"})
    assert refused.status_code == 403

    await signed_in_client(client, squatter)
    account = await client.get("/account")
    assert "Confirm your e-mail address" in account.text
    await client.post("/account/confirm-email", data={"_csrf_token": await csrf_token(client, "/account")})
    link = await mailed_link(squatter.email, "confirm_email")
    confirmed = await client.post(f"/links/{link}", data={"_csrf_token": await csrf_token(client, "/account")})
    assert confirmed.status_code == 303
    assert (await _me(client, headers))["roles"] == ["buyer_admin"]


async def test_an_officials_address_cannot_be_squatted_through_registration_or_an_invitation(client):
    # The attack of the report: register the official's address first, then become procurement officer.
    squat = await client.post("/api/v1/auth/register", json={**REGISTRATION, "email": "sofie@112.be"})
    assert squat.status_code == 202 and await User.count() == 0  # nothing exists without the mailbox

    # A company member invites the official's address to their own company and accepts with the token the API returned.
    founder = await make_user("company_member")
    relay = await client.post(f"/api/v1/organisations/{founder.org.id}/invitations", headers=await token_for(founder),
                              json={"email": "sofie@112.be", "role": "company_member"})
    accepted = await client.post(f"/api/v1/invitations/{relay.json()['token']}/accept",
                                 json={"name": "Sofie (not really)", "password": "the squatter's passphrase"})
    assert accepted.status_code == 201 and accepted.json()["email_verified"] is False
    squatter_token = await client.post("/api/v1/auth/tokens", json={"email": "sofie@112.be", "password": "the squatter's passphrase"})
    assert (await _me(client, {"Authorization": f"Bearer {squatter_token.json()['token']}"}))["roles"] == []

    # The real official resets the password from her mailbox, then accepts the body's invitation from its e-mail.
    await client.post("/api/v1/auth/password-reset", json={"email": "sofie@112.be"})
    reset = await mailed_link("sofie@112.be", "password_reset")
    assert (await client.post("/api/v1/auth/password-reset/confirm", json={"token": reset, "password": "emergency calls matter"})).status_code == 204
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {squatter_token.json()['token']}"})).status_code == 401
    admin = await make_user(admin=True)
    body = await make_org("public_body")
    invited = await client.post(f"/api/v1/organisations/{body.id}/invitations", headers=await token_for(admin),
                                json={"email": "sofie@112.be", "role": "procurement_officer"})
    mail = await OutboxMessage.objects().where((OutboxMessage.to_address == "sofie@112.be") & (OutboxMessage.kind == "invitation")
                                               ).order_by(OutboxMessage.created_at, ascending=False).first()
    proof = mail.body_text.split("proof=")[1].split()[0]
    ok = await client.post(f"/api/v1/invitations/{invited.json()['token']}/accept",
                           json={"name": "Sofie Peeters", "password": "emergency calls matter", "proof": proof})
    assert ok.status_code == 201 and ok.json()["email_verified"] is True
    sofie = await client.post("/api/v1/auth/tokens", json={"email": "sofie@112.be", "password": "emergency calls matter"})
    assert "procurement_officer" in (await _me(client, {"Authorization": f"Bearer {sofie.json()['token']}"}))["roles"]


async def test_an_organisation_sends_at_most_20_invitations_a_day(client, app):
    founder = await make_user("company_member")
    headers = await token_for(founder)
    codes = await asyncio.gather(*(client.post(f"/api/v1/organisations/{founder.org.id}/invitations", headers=headers,
                                               json={"email": f"target{i}@example.be", "role": "company_member"})
                                   for i in range(30)))
    assert {c.status_code for c in codes} == {201, 429} and await Invitation.count() <= 20  # never more, even at once
    for i in range(25):  # one after another, exactly up to the limit
        await client.post(f"/api/v1/organisations/{founder.org.id}/invitations", headers=headers,
                          json={"email": f"more{i}@example.be", "role": "company_member"})
    refused = await client.post(f"/api/v1/organisations/{founder.org.id}/invitations", headers=headers,
                                json={"email": "one.more@example.be", "role": "company_member"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert await Invitation.count() == 20
    assert await OutboxMessage.count().where(OutboxMessage.kind == "invitation") == 20
    with time_machine.travel(now() + timedelta(hours=25)):
        later = await client.post(f"/api/v1/organisations/{founder.org.id}/invitations", headers=headers,
                                  json={"email": "tomorrow@example.be", "role": "company_member"})
        assert later.status_code == 201
    admin = await make_user(admin=True)
    body = await make_org("public_body")
    admin_headers = await token_for(admin)
    for i in range(22):  # the platform admin setting up a public body is not held to it
        sent = await client.post(f"/api/v1/organisations/{body.id}/invitations", headers=admin_headers,
                                 json={"email": f"staff{i}@112.be", "role": "civil_servant"})
        assert sent.status_code == 201


@pytest.mark.parametrize("name", ["Lena\nClaes", "Lena\rBcc: x@evil.example", "Acme\u202egnp.exe", "Zero\u200bWidth", "Bell\x07"])
async def test_names_with_control_or_invisible_characters_are_refused(client, name):
    person = await client.post("/api/v1/auth/register", json={**REGISTRATION, "name": name})
    assert person.status_code == 422 and person.json()["errors"][0]["field"] == "name"
    organisation = await client.post("/api/v1/auth/register", json={**REGISTRATION, "organisation": {**REGISTRATION["organisation"], "name": name}})
    assert organisation.status_code == 422 and organisation.json()["errors"][0]["field"] == "organisation.name"
    admin = await make_user(admin=True)
    body = await client.post("/api/v1/organisations", headers=await token_for(admin), json={"kind": "public_body", "name": name})
    assert body.status_code == 422 and body.json()["errors"][0]["field"] == "name"
    invited = await client.post(f"/api/v1/organisations/{(await make_org('public_body')).id}/invitations",
                                headers=await token_for(admin), json={"email": "new@112.be", "role": "evaluator"})
    accept = await client.post(f"/api/v1/invitations/{invited.json()['token']}/accept", json={"name": name, "password": PASSWORD})
    assert accept.status_code == 422 and accept.json()["errors"][0]["field"] == "name"
    assert await OutboxMessage.count().where(OutboxMessage.kind == "confirm_registration") == 0


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("MARKETPLACE_FAST_PASSWORD_HASH", "PYTEST_CURRENT_TEST")}
    return subprocess.run([sys.executable, "-m", "marketplace", *args], input=stdin, capture_output=True, text=True,
                          env=environ, timeout=120)


async def test_create_admin_never_silently_takes_over_an_existing_account():
    officer = await make_user("procurement_officer", email="marc@112.be")
    before = (await User.objects().where(User.id == officer.id).first()).password_hash
    refused = await asyncio.to_thread(_cli, "create-admin", "marc@112.be", stdin="the attacker's new passphrase\n")
    assert refused.returncode == 2 and "--promote" in refused.stderr
    after = await User.objects().where(User.id == officer.id).first()
    assert after.password_hash == before and after.is_platform_admin is False

    promoted = await asyncio.to_thread(_cli, "create-admin", "marc@112.be", "--promote", stdin="ignored passphrase 123\n")
    assert promoted.returncode == 0, promoted.stderr
    after = await User.objects().where(User.id == officer.id).first()
    assert after.password_hash == before and after.is_platform_admin is True

    created = await asyncio.to_thread(_cli, "create-admin", "root@marketplace.be", stdin="a long admin passphrase\n")
    assert created.returncode == 0, created.stderr
    assert (await User.objects().where(User.email == "root@marketplace.be").first()).email_verified_at is not None


async def test_without_smtp_url_mail_stays_in_the_outbox_and_no_link_is_logged(client, caplog, override_settings):
    from marketplace.mail.services import deliver_due_mail

    override_settings(smtp_url=None)
    user = await make_user("company_member")
    await client.post("/api/v1/auth/password-reset", json={"email": user.email})
    token = await mailed_link(user.email, "password_reset")
    with caplog.at_level(logging.DEBUG):
        assert await deliver_due_mail() == 0
    row = await OutboxMessage.objects().first()
    assert row.status == "pending" and row.sent_at is None and row.attempts == 0
    assert token not in caplog.text and row.subject not in caplog.text


async def test_registration_links_work_once_and_expire_after_a_day(client):
    await client.post("/api/v1/auth/register", json=REGISTRATION)
    token = await mailed_link("lena@triagevoice.be", "confirm_registration")
    with time_machine.travel(now() + timedelta(hours=25)):
        late = await client.post("/api/v1/auth/register/confirm", json={"token": token})
        assert late.status_code == 409
    assert await User.count() == 0
    assert (await client.post("/api/v1/auth/register/confirm", json={"token": "not-a-token"})).status_code == 404
    twice = await asyncio.gather(*(client.post("/api/v1/auth/register/confirm", json={"token": token}) for _ in range(2)))
    assert sorted(r.status_code for r in twice) == [201, 409]
    assert await User.count() == 1 and await Membership.count() == 1


async def test_the_worker_forgets_old_attempts_and_links(client):
    from marketplace.accounts.jobs import forget_stale_sign_in_records
    from marketplace.accounts.tables import EmailLink, LoginAttempt

    await client.post("/api/v1/auth/register", json=REGISTRATION)
    await client.post("/api/v1/auth/tokens", json={"email": "someone@example.be", "password": "a wrong password"})
    assert await forget_stale_sign_in_records() == 0
    with time_machine.travel(now() + timedelta(days=3)):
        assert await forget_stale_sign_in_records() == 2
    assert await EmailLink.count() == 0 and await LoginAttempt.count() == 0
