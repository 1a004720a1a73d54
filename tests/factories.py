"""Factories: build organisations, people and tokens straight in the database."""

from __future__ import annotations

import itertools
import re

import httpx

from marketplace.accounts.tables import ApiToken, Membership, Organisation, User
from marketplace.core.clock import now
from marketplace.core.security import hash_password, hash_token, new_token

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


async def make_org(kind: str = "company", name: str | None = None, **fields) -> Organisation:
    n = next(_seq)
    org = Organisation(kind=kind, name=name or f"{kind.replace('_', ' ').title()} {n}", country="BE", **fields)
    await org.save()
    return org


async def make_user(*roles: str, org: Organisation | None = None, email: str | None = None, admin: bool = False,
                    name: str | None = None, locale: str = "en", verified: bool = True) -> User:
    """A user with `roles` in `org` (an organisation of the right kind is made when none is given).
    Their address is confirmed unless `verified=False`."""
    n = next(_seq)
    user = User(email=email or f"person{n}@example.be", name=name or f"Person {n}", password_hash=await password_hash(),
                is_platform_admin=admin, locale=locale, email_verified_at=now() if verified else None)
    await user.save()
    if roles and org is None:
        kind = "company" if "company_member" in roles else "incubator" if "incubator_member" in roles else "public_body"
        org = await make_org(kind)
    for role in roles:
        await Membership.insert(Membership(user=user.id, organisation=org.id, role=role))
    user.org = org  # type: ignore[attr-defined]
    return user


_HASH: list[str] = []


async def password_hash() -> str:
    """The hash of PASSWORD (computed once per run)."""
    if not _HASH:
        _HASH.append(await hash_password(PASSWORD))
    return _HASH[0]


async def token_for(user: User) -> dict[str, str]:
    """Authorization headers for `user`."""
    token = new_token()
    await ApiToken.insert(ApiToken(user=user.id, token_hash=hash_token(token)))
    return {"Authorization": f"Bearer {token}"}


async def signed_in_client(client: httpx.AsyncClient, user: User) -> httpx.AsyncClient:
    """Sign `user` in through the real sign-in page (cookie session + CSRF)."""
    token = await csrf_token(client, "/signin")
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "next": "/account", "_csrf_token": token})
    assert response.status_code == 303, response.text
    return client


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    """GET a page and return the CSRF token its forms carry."""
    page = await client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


async def mailed_link(to: str, kind: str) -> str:
    """The token of the newest link mailed to `to` in an e-mail of `kind` (`templates/mail/<kind>.txt`)."""
    from marketplace.mail.tables import OutboxMessage

    row = await OutboxMessage.select(OutboxMessage.body_text).where(
        (OutboxMessage.to_address == to) & (OutboxMessage.kind == kind)).order_by(OutboxMessage.created_at, ascending=False).first()
    assert row, f"no {kind} e-mail to {to}"
    match = re.search(r"/links/([A-Za-z0-9_-]+)", row["body_text"])
    assert match, f"no link in the {kind} e-mail to {to}"
    return match.group(1)
