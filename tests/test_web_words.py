"""What people read around every page: their language, messages from the server (never the address), no dead ends."""

from __future__ import annotations

import pytest

from marketplace.core.i18n import negotiate
from tests.factories import csrf_token, make_user, signed_in_client


@pytest.mark.parametrize(("header", "expected"), [
    ("fr, nl", "fr"),  # equal weights: the header's order
    ("nl;q=0, fr;q=0.5", "fr"),
    ("nl;q=0", None),  # "not Dutch" is never Dutch
    ("nl-BE,nl;q=0.9,en;q=0.5", "nl"),
    ("de-DE, fr-BE;q=0.8, en;q=0.7", "fr"),
    ("en;q=0.2, nl;q=0.9", "nl"),
    ("*", None),
    ("", None),
])
def test_language_is_negotiated_by_weight_and_order(header, expected):
    assert negotiate(header) == expected


async def test_a_link_with_a_notice_in_its_address_shows_no_banner(client):
    page = await client.get("/", params={"notice": "Your account was suspended. Call +32 2 000 00 00"})
    assert page.status_code == 200
    assert "suspended" not in page.text


async def test_a_confirmation_is_shown_once_from_the_session_not_the_address(client):
    user = await make_user("company_member")
    await signed_in_client(client, user)
    signed_out = await client.post("/signout", data={"_csrf_token": await csrf_token(client, "/account")})
    assert signed_out.status_code == 303
    assert "notice" not in signed_out.headers["location"]
    first = await client.get(signed_out.headers["location"])
    assert "You are signed out." in first.text
    again = await client.get(signed_out.headers["location"])
    assert "You are signed out." not in again.text  # shown once


async def test_a_forged_flash_cookie_is_ignored(client):
    client.cookies.set("mp_flash", "eyJ0IjogIlN1c3BlbmRlZCIsICJrIjogImVycm9yIn0.0000")
    page = await client.get("/")
    assert "Suspended" not in page.text


async def test_a_failed_post_says_so_as_an_error(client):
    user = await make_user("company_member")
    await signed_in_client(client, user)
    token = await csrf_token(client, "/account")
    refused = await client.post("/account/invitations", data={"organisation_id": str(user.org.id), "email": "x",
                                                              "role": "company_member", "_csrf_token": token})
    assert refused.status_code == 303
    page = await client.get(refused.headers["location"])
    assert 'class="error-summary flash" role="alert"' in page.text
    assert "The invitation was not sent" in page.text


async def test_the_404_page_speaks_the_sessions_language_and_keeps_the_user_signed_in(client):
    user = await make_user("company_member", locale="nl", name="Lena Claes")
    await signed_in_client(client, user)
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert 'lang="nl"' in missing.text and "Deze pagina bestaat niet" in missing.text
    assert "Afmelden" in missing.text  # still signed in: the header says so


async def test_reloading_a_form_post_address_leads_back_to_a_page(client):
    user = await make_user("company_member")
    await signed_in_client(client, user)
    reload = await client.get("/account/invitations")  # the address bar after a failed post
    assert reload.status_code == 303
    assert reload.headers["location"] == "/account"
    assert (await client.get("/signout")).headers["location"] == "/"


async def test_the_empty_sign_up_form_shows_every_error_at_once_in_the_readers_words(client):
    client.cookies.set("mp_lang", "fr")
    token = await csrf_token(client, "/signup")
    refused = await client.post("/signup", data={"kind": "company", "country": "BE", "_csrf_token": token,
                                                 "email": "", "password": "", "name": "", "org_name": ""})
    assert refused.status_code == 422
    page = refused.text
    for label in ("Adresse e-mail", "Mot de passe", "Nom de l’organisation"):
        assert f"{label} : ce champ est obligatoire" in page.replace("&#39;", "’").replace("'", "’"), label
    assert "Expected `" not in page and "of length" not in page  # never a validator's message
    assert page.count('aria-invalid="true"') >= 3


async def test_a_too_short_value_says_how_long_it_must_be(client):
    token = await csrf_token(client, "/signup")
    refused = await client.post("/signup", data={"kind": "company", "country": "BE", "_csrf_token": token,
                                                 "email": "a@", "password": "x", "name": "Lena", "org_name": "Acme"})
    assert "E-mail address: enter at least 3 characters" in refused.text
    assert "Password: " in refused.text


def test_default_deadlines_fall_at_noon_in_brussels_summer_and_winter():
    from datetime import UTC, datetime

    from marketplace.core.clock import deadline_on_or_after

    assert deadline_on_or_after(datetime(2026, 12, 22, 19, 9, 14, tzinfo=UTC)) == datetime(2026, 12, 23, 11, 0, tzinfo=UTC)
    assert deadline_on_or_after(datetime(2026, 12, 22, 9, 0, tzinfo=UTC)) == datetime(2026, 12, 22, 11, 0, tzinfo=UTC)
    assert deadline_on_or_after(datetime(2027, 7, 1, 8, 0, tzinfo=UTC)) == datetime(2027, 7, 1, 10, 0, tzinfo=UTC)  # CEST


async def test_deadlines_read_in_belgian_time_to_the_minute_with_zone_and_time_left():
    from datetime import UTC, datetime, timedelta

    import time_machine

    from marketplace.core import i18n
    from marketplace.core.templating import environment

    deadline = datetime(2026, 12, 22, 11, 0, 0, tzinfo=UTC)
    template = environment().from_string("{{ d | deadline }}")
    with time_machine.travel(deadline - timedelta(days=3, hours=1), tick=False):
        for lang, text, left in (("en", "22 Dec 2026, 12:00 CET", "closes in 3 days"),
                                 ("fr", "22 déc. 2026, 12:00 CET", "clôture dans 3 jours"),
                                 ("nl", "22 dec 2026, 12:00 CET", "sluit over 3 dagen")):
            token = i18n.current_locale.set(lang)
            try:
                html = template.render(d=deadline)
            finally:
                i18n.current_locale.reset(token)
            assert f'<time datetime="2026-12-22T11:00:00+00:00" data-local>{text}</time>' in html, html
            assert f"({left})" in html
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        assert "(closed)" in template.render(d=deadline)
