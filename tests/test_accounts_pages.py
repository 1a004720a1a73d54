"""Accounts through the web pages: CSRF, sessions, sign-in rate limit, invitations, safe redirects."""

from datetime import timedelta

import time_machine

from marketplace.accounts.tables import Membership, Organisation, User, WebSession
from marketplace.core.clock import now
from tests.factories import (
    PASSWORD,
    csrf_token,
    mailed_link,
    make_org,
    make_user,
    signed_in_client,
    token_for,
)

SIGNUP = {"name": "Lena Claes", "email": "lena@triagevoice.be", "password": "a long enough passphrase",
          "kind": "company", "org_name": "TriageVoice", "country": "BE", "enterprise_number": "", "size": "micro"}


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client):
    await client.get("/signup")  # the CSRF cookie is set, but the form field is missing
    refused = await client.post("/signup", data=SIGNUP)
    assert refused.status_code == 403
    assert "form expired" in refused.text
    forged = await client.post("/signup", data={**SIGNUP, "_csrf_token": "forged"})
    assert forged.status_code == 403
    assert await User.count() == 0 and await Organisation.count() == 0

    token = await csrf_token(client, "/signup")
    created = await client.post("/signup", data={**SIGNUP, "_csrf_token": token})
    assert created.status_code == 200 and "Check your e-mail" in created.text
    link = await mailed_link("lena@triagevoice.be", "confirm_registration")
    assert "Create my account" in (await client.get(f"/links/{link}")).text
    assert await User.count() == 0  # opening the link (as mail scanners do) creates nothing
    confirmed = await client.post(f"/links/{link}", data={"_csrf_token": token})
    assert confirmed.status_code == 303 and confirmed.headers["location"].startswith("/account")
    assert "TriageVoice" in (await client.get("/account")).text


async def test_a_csrf_token_from_another_browser_is_refused(client, app):
    import httpx

    user = await make_user("company_member")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as attacker:
        stolen = await csrf_token(attacker, "/signin")
    await client.get("/signin")
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "_csrf_token": stolen})
    assert response.status_code == 403
    assert await WebSession.count() == 0


async def test_sign_in_opens_a_session_and_sign_out_closes_it(client):
    user = await make_user("company_member")
    assert (await client.get("/account")).status_code == 302  # to the sign-in page

    token = await csrf_token(client, "/signin")
    signed_in = await client.post("/signin", data={"email": user.email.upper(), "password": PASSWORD, "next": "/notifications",
                                                   "_csrf_token": token})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/notifications"
    cookie_header = signed_in.headers["set-cookie"]
    assert "mp_session=" in cookie_header and "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header.replace("Lax", "lax")
    session_cookie = client.cookies["mp_session"]
    account = await client.get("/account")
    assert account.status_code == 200 and user.name in account.text
    assert await WebSession.count() == 1

    token = await csrf_token(client, "/account")
    signed_out = await client.post("/signout", data={"_csrf_token": token})
    assert signed_out.status_code == 303
    assert await WebSession.count() == 0
    client.cookies.set("mp_session", session_cookie)  # replaying the old cookie does not work
    again = await client.get("/account")
    assert again.status_code == 302 and again.headers["location"] == "/signin?next=/account"


async def test_sessions_expire(client):
    user = await make_user("company_member")
    await signed_in_client(client, user)
    assert (await client.get("/account")).status_code == 200
    with time_machine.travel(now() + timedelta(days=31)):
        assert (await client.get("/account")).status_code == 302


async def test_wrong_passwords_on_the_page_pause_this_browser_and_offer_a_link(client):
    user = await make_user("company_member")
    token = await csrf_token(client, "/signin")
    for _ in range(3):
        wrong = await client.post("/signin", data={"email": user.email, "password": "nope nope nope", "_csrf_token": token})
        assert wrong.status_code == 401
        assert "Wrong e-mail address or password." in wrong.text
    blocked = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "_csrf_token": token})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins" in blocked.text and 'href="/signin/link"' in blocked.text
    assert await WebSession.count() == 0
    with time_machine.travel(now() + timedelta(minutes=2)):
        allowed = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "_csrf_token": token})
        assert allowed.status_code == 303


async def test_sign_in_never_redirects_to_another_site(client):
    user = await make_user("company_member")
    token = await csrf_token(client, "/signin")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "next": target,
                                                      "_csrf_token": token})
        assert response.headers["location"] == "/proposals", target  # its own landing page, never the other site
    language = await client.get("/language/fr", params={"next": "//evil.example"})
    assert language.headers["location"] == "/"


async def _invite(client, email="new.colleague@112.be", role="evaluator") -> tuple[str, Organisation]:
    admin = await make_user(admin=True)
    body = await make_org("public_body")
    invited = await client.post(f"/api/v1/organisations/{body.id}/invitations", headers=await token_for(admin),
                                json={"email": email, "role": role})
    assert invited.status_code == 201
    return invited.json()["token"], body


async def test_an_invitation_is_accepted_on_its_page_once(client):
    token, body = await _invite(client)
    form = await client.get(f"/invitations/{token}")
    assert form.status_code == 200 and body.name in form.text
    csrf = await csrf_token(client, f"/invitations/{token}")
    accepted = await client.post(f"/invitations/{token}", data={"name": "Nina Evaluator", "password": "a long enough passphrase",
                                                                  "_csrf_token": csrf})
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/account")
    nina = await User.objects().where(User.email == "new.colleague@112.be").first()
    assert await Membership.exists().where((Membership.user == nina.id) & (Membership.role == "evaluator"))

    reused_form = await client.get(f"/invitations/{token}")
    assert reused_form.status_code == 409 and "already been used" in reused_form.text
    reused = await client.post(f"/invitations/{token}", data={"name": "Someone", "password": "another passphrase 1",
                                                              "_csrf_token": csrf})
    assert reused.status_code == 409
    assert await User.count().where(User.email == "new.colleague@112.be") == 1


async def test_an_expired_invitation_page_says_so_and_creates_nothing(client):
    token, _body = await _invite(client, email="late@112.be")
    csrf = await csrf_token(client, "/signin")
    with time_machine.travel(now() + timedelta(days=15)):
        page = await client.get(f"/invitations/{token}")
        assert page.status_code == 409 and "expired" in page.text
        late = await client.post(f"/invitations/{token}", data={"name": "Late", "password": "a long enough passphrase",
                                                                "_csrf_token": csrf})
        assert late.status_code == 409
    assert await User.count().where(User.email == "late@112.be") == 0
    assert (await client.get("/invitations/not-a-real-token")).status_code == 404


async def test_a_weak_password_on_the_invitation_page_is_shown_next_to_the_field(client):
    token, _body = await _invite(client)
    csrf = await csrf_token(client, f"/invitations/{token}")
    weak = await client.post(f"/invitations/{token}", data={"name": "Nina", "password": "short", "_csrf_token": csrf})
    assert weak.status_code == 422
    assert 'id="f-password-error"' in weak.text
    assert weak.headers["content-type"].startswith("text/html")
    assert (await client.get(f"/invitations/{token}")).status_code == 200  # still usable


async def test_pages_refuse_roles_that_may_not_see_them(client):
    founder = await make_user("company_member")
    await signed_in_client(client, founder)
    assert (await client.get("/admin/organisations")).status_code == 403
    token = await csrf_token(client, "/account")
    refused = await client.post("/admin/organisations", data={"name": "Fake body", "country": "BE", "_csrf_token": token})
    assert refused.status_code == 403
    assert await Organisation.count().where(Organisation.name == "Fake body") == 0


async def test_pages_and_api_answers_carry_security_headers(client):
    for response in (await client.get("/signin"), await client.get("/api/v1/me"), await client.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "same-origin"
