"""Accounts through the API: sign-up, tokens, invitations, portfolios, and every bad input."""

from datetime import timedelta

import time_machine

from marketplace.accounts.tables import Invitation, Membership, Organisation, User
from marketplace.core.clock import now
from marketplace.mail.tables import OutboxMessage
from tests.factories import PASSWORD, mailed_link, make_org, make_user, token_for

REGISTRATION = {
    "email": "Lena@TriageVoice.be",
    "password": "a long enough passphrase",
    "name": "Lena Claes",
    "organisation": {"kind": "company", "name": "TriageVoice", "country": "BE", "enterprise_number": "0123.456.749", "size": "micro"},
}


async def test_founder_registers_a_company_confirms_her_address_and_gets_a_token(client):
    response = await client.post("/api/v1/auth/register", json=REGISTRATION)
    assert response.status_code == 202, response.text
    assert response.json()["email"] == "lena@triagevoice.be"
    assert await User.count() == 0 and await Organisation.count() == 0  # nothing exists until the address is confirmed
    token = await mailed_link("lena@triagevoice.be", "confirm_registration")

    confirmed = await client.post("/api/v1/auth/register/confirm", json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert body["user"]["email"] == "lena@triagevoice.be" and body["user"]["email_verified"] is True
    assert body["organisation"] == {
        "id": body["organisation"]["id"], "kind": "company", "name": "TriageVoice", "country": "BE",
        "enterprise_number": "0123.456.749", "size": "micro", "website": None,
    }
    user = await User.objects().where(User.email == "lena@triagevoice.be").first()
    assert user.password_hash.startswith("$argon2id$")
    assert await OutboxMessage.count().where((OutboxMessage.to_address == "lena@triagevoice.be") & (OutboxMessage.kind == "welcome")) == 1
    assert (await client.post("/api/v1/auth/register/confirm", json={"token": token})).status_code == 409  # once

    token = await client.post("/api/v1/auth/tokens", json={"email": "lena@triagevoice.be", "password": "a long enough passphrase"})
    assert token.status_code == 201
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['token']}"})
    assert me.status_code == 200
    assert me.json()["roles"] == ["company_member"]
    assert me.json()["memberships"][0]["organisation"]["name"] == "TriageVoice"


async def test_registering_a_known_address_answers_the_same_writes_nothing_and_tells_its_owner(client):
    owner = await make_user("company_member", email="lena@triagevoice.be")
    orgs_before = await Organisation.count()
    known = await client.post("/api/v1/auth/register", json={**REGISTRATION, "email": "Lena@TriageVoice.be"})
    unknown = await client.post("/api/v1/auth/register", json={**REGISTRATION, "email": "someone.new@triagevoice.be"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() | {"email": ""} == unknown.json() | {"email": ""}
    assert await Organisation.count() == orgs_before and await User.count() == 1
    told = await OutboxMessage.objects().where(OutboxMessage.to_address == owner.email).first()
    assert told.kind == "registration_attempt" and "/links/" in told.body_text  # with a sign-in link, in case it was her


async def test_weak_password_names_the_field(client):
    response = await client.post("/api/v1/auth/register", json={**REGISTRATION, "password": "short"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"
    assert await User.count() == 0


async def test_bad_enterprise_number_names_the_nested_field(client):
    bad = {**REGISTRATION, "organisation": {**REGISTRATION["organisation"], "enterprise_number": "0123.456.700"}}
    response = await client.post("/api/v1/auth/register", json=bad)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation.enterprise_number"


async def test_unknown_fields_are_refused(client):
    response = await client.post("/api/v1/auth/register", json={**REGISTRATION, "is_platform_admin": True})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "is_platform_admin"
    assert await User.count() == 0


async def test_a_public_body_cannot_self_register(client):
    bad = {**REGISTRATION, "organisation": {**REGISTRATION["organisation"], "kind": "public_body"}}
    response = await client.post("/api/v1/auth/register", json=bad)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation.kind"


async def test_malformed_json_wrong_content_type_and_huge_body(client):
    malformed = await client.post("/api/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["status"] == 400
    wrong_type = await client.post("/api/v1/auth/register", content=b"email=x", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    huge = await client.post("/api/v1/auth/register", content=b'{"email": "' + b"x" * (5 * 1024 * 1024) + b'"}',
                             headers={"content-type": "application/json"})
    assert huge.status_code == 413
    assert await User.count() == 0


async def test_wrong_passwords_slow_this_source_down_more_and_more(client):
    user = await make_user("company_member")
    for _ in range(3):
        wrong = await client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "not the password"})
        assert wrong.status_code == 401
    paused = await client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert paused.status_code == 429 and 0 < int(paused.headers["retry-after"]) <= 60
    with time_machine.travel(now() + timedelta(seconds=61)):
        for _ in range(2):
            assert (await client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "not it"})).status_code == 401
        longer = await client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
        assert longer.status_code == 429 and 60 < int(longer.headers["retry-after"]) <= 900
    with time_machine.travel(now() + timedelta(minutes=16)):
        allowed = await client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
        assert allowed.status_code == 201


async def test_a_revoked_token_no_longer_works(client):
    user = await make_user("company_member")
    headers = await token_for(user)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await client.delete("/api/v1/auth/tokens/current", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_admin_creates_a_public_body_and_invites_its_staff(client):
    admin = await make_user(admin=True)
    headers = await token_for(admin)
    created = await client.post("/api/v1/organisations", headers=headers, json={
        "kind": "public_body", "name": "FPS Home Affairs", "country": "BE", "budget_ceiling": {"amount": 2_500_000, "currency": "EUR"}})
    assert created.status_code == 201, created.text
    body_id = created.json()["id"]
    invited = await client.post(f"/api/v1/organisations/{body_id}/invitations", headers=headers,
                                json={"email": "Sofie@112.be", "role": "buyer_admin"})
    assert invited.status_code == 201
    token = invited.json()["token"]
    mail = await OutboxMessage.objects().where(OutboxMessage.to_address == "sofie@112.be").first()
    assert token in mail.body_text

    proof = mail.body_text.split("proof=")[1].split()[0]  # what only the e-mail carries: her address is confirmed
    accepted = await client.post(f"/api/v1/invitations/{token}/accept",
                                 json={"name": "Sofie Peeters", "password": "emergency calls matter", "proof": proof})
    assert accepted.status_code == 201, accepted.text
    sofie = await User.objects().where(User.email == "sofie@112.be").first()
    assert await Membership.exists().where((Membership.user == sofie.id) & (Membership.role == "buyer_admin"))

    reused = await client.post(f"/api/v1/invitations/{token}/accept", json={"name": "Someone", "password": "another passphrase"})
    assert reused.status_code == 409

    # The body's admin may now invite colleagues herself.
    sofie_headers = {"Authorization": "Bearer " + (await client.post("/api/v1/auth/tokens", json={"email": "sofie@112.be", "password": "emergency calls matter"})).json()["token"]}
    colleague = await client.post(f"/api/v1/organisations/{body_id}/invitations", headers=sofie_headers,
                                  json={"email": "marc@112.be", "role": "procurement_officer"})
    assert colleague.status_code == 201
    wrong_role = await client.post(f"/api/v1/organisations/{body_id}/invitations", headers=sofie_headers,
                                   json={"email": "x@112.be", "role": "company_member"})
    assert wrong_role.status_code == 422
    assert wrong_role.json()["errors"][0]["field"] == "role"


async def test_expired_invitation_is_refused(client):
    admin = await make_user(admin=True)
    body = await make_org("public_body")
    invited = await client.post(f"/api/v1/organisations/{body.id}/invitations", headers=await token_for(admin),
                                json={"email": "late@112.be", "role": "civil_servant"})
    token = invited.json()["token"]
    with time_machine.travel(now() + timedelta(days=15)):
        late = await client.post(f"/api/v1/invitations/{token}/accept", json={"name": "Late", "password": "a long enough passphrase"})
    assert late.status_code == 409
    assert "expired" in late.json()["detail"]
    assert await User.count().where(User.email == "late@112.be") == 0
    assert await Invitation.count().where(Invitation.accepted_at.is_null()) == 1


async def test_unknown_invitation_token_is_404(client):
    response = await client.post("/api/v1/invitations/nope/accept", json={"name": "X", "password": "a long enough passphrase"})
    assert response.status_code == 404


async def test_incubator_portfolio_needs_the_companys_consent(client):
    incubator_member = await make_user("incubator_member")
    founder = await make_user("company_member")
    requested = await client.post(f"/api/v1/organisations/{incubator_member.org.id}/portfolio",
                                  headers=await token_for(incubator_member), json={"company_id": str(founder.org.id)})
    assert requested.status_code == 201
    link = requested.json()
    assert link["status"] == "pending"
    assert await OutboxMessage.count().where(OutboxMessage.to_address == founder.email) == 1

    by_incubator = await client.post(f"/api/v1/portfolio-links/{link['id']}/accept", headers=await token_for(incubator_member))
    assert by_incubator.status_code == 403
    stranger = await make_user("company_member")
    by_stranger = await client.post(f"/api/v1/portfolio-links/{link['id']}/accept", headers=await token_for(stranger))
    assert by_stranger.status_code == 404
    accepted = await client.post(f"/api/v1/portfolio-links/{link['id']}/accept", headers=await token_for(founder))
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    twice = await client.post(f"/api/v1/portfolio-links/{link['id']}/accept", headers=await token_for(founder))
    assert twice.status_code == 409
    duplicate = await client.post(f"/api/v1/organisations/{incubator_member.org.id}/portfolio",
                                  headers=await token_for(incubator_member), json={"company_id": str(founder.org.id)})
    assert duplicate.status_code == 409


async def test_ids_that_are_not_ids_are_404_not_500(client):
    admin = await make_user(admin=True)
    response = await client.post("/api/v1/organisations/not-a-uuid/invitations", headers=await token_for(admin),
                                 json={"email": "a@b.be", "role": "civil_servant"})
    assert response.status_code == 404
    assert (await client.get("/api/v1/organisations/%27%3B--")).status_code == 404
