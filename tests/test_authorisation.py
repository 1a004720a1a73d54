"""Who may call what: deny by default, checked over every API route and, for accounts, every role."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from marketplace.accounts.tables import ApiToken, Invitation, Membership, Organisation, PortfolioLink, User
from marketplace.app import create_app
from marketplace.settings import get_settings
from tests.factories import make_org, make_user, token_for


def api_endpoints() -> list[tuple[str, str, Any]]:
    """(method, path template, allow rule) of every API endpoint of the app, whichever domain added it."""
    out = []
    for route in create_app(get_settings()).routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                out.append((method, route.path, handler.opt.get("allow")))
    return sorted(out)


ENDPOINTS = api_endpoints()


def concrete(path: str) -> str:
    """A path with every parameter filled with an id that exists nowhere."""
    return re.sub(r"\{[^}]+\}", str(uuid.UUID(int=1)), path)


def test_every_api_endpoint_declares_who_may_call_it():
    undeclared = [f"{m} {p}" for m, p, allow in ENDPOINTS if allow is None]
    assert not undeclared, "endpoints without opt=allow(...) are closed to everyone: " + ", ".join(undeclared)
    assert len(ENDPOINTS) >= 9


@pytest.mark.parametrize(("method", "path", "allow"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_anonymous_callers_get_401_unless_the_endpoint_is_public(client, method, path, allow):
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    response = await client.request(method, concrete(path), **kwargs)
    assert response.status_code < 500, response.text
    if allow == "public":
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == 401


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, allow in ENDPOINTS if allow != "public"],
                         ids=[f"{m} {p}" for m, p, allow in ENDPOINTS if allow != "public"])
async def test_a_bogus_bearer_token_is_401_too(client, method, path):
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    response = await client.request(method, concrete(path), headers={"Authorization": "Bearer not-a-token"}, **kwargs)
    assert response.status_code == 401


# --- accounts: every endpoint and every role -----------------------------------------------------

ROLES = ["anonymous", "company_member", "incubator_member", "civil_servant", "procurement_officer", "evaluator",
         "buyer_admin", "platform_admin"]
SIGNED_IN = ROLES[1:]


@dataclass
class World:
    body: Organisation
    company: Organisation
    other_company: Organisation
    incubator: Organisation
    link: Any
    headers: dict[str, str]


async def build_world(role: str) -> World:
    """Two companies, an incubator, a public body, a pending portfolio link, and `role`'s caller."""
    body = await make_org("public_body")
    company = await make_org("company")
    other_company = await make_org("company")
    incubator = await make_org("incubator")
    owners = {"company_member": company, "incubator_member": incubator}
    headers: dict[str, str] = {}
    if role == "platform_admin":
        headers = await token_for(await make_user(admin=True))
    elif role != "anonymous":
        headers = await token_for(await make_user(role, org=owners.get(role, body)))
    link = PortfolioLink(incubator=incubator.id, company=company.id, status="pending")
    await link.save()
    return World(body, company, other_company, incubator, link, headers)


# name: (method, path, body, roles allowed, status when allowed)
ACCOUNTS_MATRIX: dict[str, tuple[str, str, dict | None, list[str], int]] = {
    "who am I": ("GET", "/api/v1/me", None, SIGNED_IN, 200),
    "revoke my token": ("DELETE", "/api/v1/auth/tokens/current", None, SIGNED_IN, 204),
    "create a public body": ("POST", "/api/v1/organisations",
                             {"kind": "public_body", "name": "FPS Mobility", "country": "BE"}, ["platform_admin"], 201),
    "read an organisation": ("GET", "/api/v1/organisations/{company}", None, ROLES, 200),
    "invite staff to a public body": ("POST", "/api/v1/organisations/{body}/invitations",
                                      {"email": "new@body.be", "role": "civil_servant"}, ["buyer_admin", "platform_admin"], 201),
    "invite a colleague to a company": ("POST", "/api/v1/organisations/{company}/invitations",
                                        {"email": "new@company.be", "role": "company_member"}, ["company_member", "platform_admin"], 201),
    "ask a company into the portfolio": ("POST", "/api/v1/organisations/{incubator}/portfolio",
                                         {"company_id": "{other_company}"}, ["incubator_member"], 201),
    "accept a portfolio link": ("POST", "/api/v1/portfolio-links/{link}/accept", None, ["company_member"], 200),
    "decline a portfolio link": ("POST", "/api/v1/portfolio-links/{link}/decline", None, ["company_member"], 200),
}


def _fill(value: Any, world: World) -> Any:
    ids = {"body": world.body.id, "company": world.company.id, "other_company": world.other_company.id,
           "incubator": world.incubator.id, "link": world.link.id}
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


async def _footprint() -> tuple[int, ...]:
    return (await Organisation.count(), await User.count(), await Membership.count(), await Invitation.count(),
            await PortfolioLink.count().where(PortfolioLink.status == "pending"),
            await ApiToken.count().where(ApiToken.revoked_at.is_null()))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(ACCOUNTS_MATRIX))
async def test_accounts_endpoint_for_role(client, endpoint, role):
    method, path, body, allowed, success = ACCOUNTS_MATRIX[endpoint]
    world = await build_world(role)
    before = await _footprint()
    kwargs = {"json": _fill(body, world)} if body is not None else {}
    response = await client.request(method, _fill(path, world), headers=world.headers, **kwargs)
    if role in allowed:
        assert response.status_code == success, f"{role} should be allowed: {response.text}"
    else:
        assert response.status_code == (401 if role == "anonymous" else 403), f"{role} should be refused: {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert await _footprint() == before, "a refused request changed something"


# --- challenge documents: every endpoint and every role --------------------------------------------

BUYER_TEAM = ["civil_servant", "procurement_officer", "buyer_admin"]
PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _document_upload(**fields: str) -> dict:
    return {"data": {"title": "Annex: call volumes", **fields}, "files": {"file": ("annex.pdf", PDF_BYTES + uuid.uuid4().bytes)}}


# name: (method, path, upload, roles allowed, status when allowed, status for a signed-in role refused)
# Reading is public, but a draft and its documents are visible only to its buyer team: 404 for anyone else.
DOCUMENTS_MATRIX: dict[str, tuple[str, str, dict | None, list[str], int, int]] = {
    "attach a document to a draft": ("POST", "/api/v1/challenges/{draft}/documents", _document_upload(), BUYER_TEAM, 201, 403),
    "amend a published challenge with a document": ("POST", "/api/v1/challenges/{published}/documents",
                                                    _document_upload(change_note="Annex added."), BUYER_TEAM, 201, 403),
    "list a draft's documents": ("GET", "/api/v1/challenges/{draft}/documents", None, BUYER_TEAM, 200, 404),
    "download a draft's document": ("GET", "/api/v1/challenges/{draft}/documents/{draft_document}", None, BUYER_TEAM, 200, 404),
    "list a published challenge's documents": ("GET", "/api/v1/challenges/{published}/documents", None, ROLES, 200, 404),
    "download a superseded version": ("GET", "/api/v1/challenges/{published}/documents/{superseded}", None, ROLES, 200, 404),
}


async def _documents_world(client, role: str) -> tuple[World, dict[str, str]]:
    """`build_world` plus a draft and a published challenge of its public body, each with a document (the
    published one's replaced once by an amendment), attached by another civil servant of that body."""
    from tests.factories_challenges import make_challenge

    world = await build_world(role)
    author = await token_for(await make_user("civil_servant", org=world.body))
    draft = await make_challenge(world.body, published=False)
    published = await make_challenge(world.body)
    ids = {"draft": str(draft.id), "published": str(published.id)}
    on_draft = await client.post(f"/api/v1/challenges/{draft.id}/documents", headers=author, **_document_upload())
    first = await client.post(f"/api/v1/challenges/{published.id}/documents", headers=author, **_document_upload(change_note="Annex."))
    replaced = await client.post(f"/api/v1/challenges/{published.id}/documents", headers=author,
                                 **_document_upload(change_note="New annex.", replaces=first.json()["id"]))
    assert replaced.status_code == 201, replaced.text
    ids.update(draft_document=on_draft.json()["id"], superseded=first.json()["id"])
    return world, ids


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(DOCUMENTS_MATRIX))
async def test_challenge_documents_endpoint_for_role(client, endpoint, role):
    from marketplace.challenges.tables import ChallengeDocument, ChallengeVersion

    method, path, body, allowed, success, refused = DOCUMENTS_MATRIX[endpoint]
    world, ids = await _documents_world(client, role)
    before = (await ChallengeDocument.count(), await ChallengeVersion.count())
    url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
    response = await client.request(method, url, headers=world.headers, **(body or {}))
    if role in allowed:
        assert response.status_code == success, f"{role} should be allowed: {response.text}"
    else:
        expected = 401 if role == "anonymous" and method == "POST" else refused
        assert response.status_code == expected, f"{role} should be refused: {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await ChallengeDocument.count(), await ChallengeVersion.count()) == before, "a refused request changed something"
