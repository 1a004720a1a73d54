"""Cross-cutting page behaviour: where people land after signing in, the favicon, the 403 page naming roles
in the reader's language."""

import pytest

from tests.factories import PASSWORD, csrf_token, make_user, signed_in_client


async def sign_in_without_next(client, user) -> str:
    token = await csrf_token(client, "/signin")
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "next": "", "_csrf_token": token})
    assert response.status_code == 303
    return response.headers["location"].split("?")[0]


@pytest.mark.parametrize(("roles", "admin", "landing"), [
    (("civil_servant",), False, "/my/challenges"),
    (("procurement_officer",), False, "/my/challenges"),
    (("company_member",), False, "/proposals"),
    (("incubator_member",), False, "/proposals"),
    (("evaluator",), False, "/evaluations"),
    ((), True, "/admin/organisations"),
    ((), False, "/account"),
])
async def test_signing_in_without_a_next_page_lands_on_what_the_role_does_next(client, roles, admin, landing):
    user = await make_user(*roles, admin=admin)
    assert await sign_in_without_next(client, user) == landing
    assert (await client.get(landing)).status_code == 200


async def test_a_next_page_still_wins_and_the_sign_in_form_carries_no_default(client):
    user = await make_user("company_member")
    assert 'name="next" value=""' in (await client.get("/signin")).text
    token = await csrf_token(client, "/signin")
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "next": "/notifications", "_csrf_token": token})
    assert response.headers["location"] == "/notifications"


async def test_every_browser_gets_a_favicon(client):
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml") and b"<svg" in response.content
    assert 'rel="icon"' in (await client.get("/")).text


@pytest.mark.parametrize(("lang", "label"), [("en", "Civil servant"), ("fr", "Agent public"), ("nl", "Ambtenaar")])
async def test_the_403_page_names_the_allowed_roles_in_the_readers_language(client, lang, label):
    await signed_in_client(client, await make_user("company_member"))
    client.cookies.set("mp_lang", lang)
    refused = await client.get("/my/challenges")
    assert refused.status_code == 403
    assert label in refused.text
    assert "civil_servant" not in refused.text and "procurement_officer" not in refused.text
