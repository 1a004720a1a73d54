"""Who is calling: a bearer token (API) or a session cookie (pages), resolved once per request.

`access` is the one guard of the app, parameterised by each route's `opt["allow"]`:
`"public"`, `"signed_in"`, or a list of role names (`"platform_admin"` included). A route that
declares nothing is refused: deny by default.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace.core.clock import now
from marketplace.core.errors import Forbidden, NotAuthenticated
from marketplace.core.security import hash_token

SESSION_COOKIE = "mp_session"
PUBLIC = "public"
SIGNED_IN = "signed_in"
BUYER_ROLES = ("civil_servant", "procurement_officer", "evaluator", "buyer_admin")


@dataclass(frozen=True)
class Role:
    organisation_id: str
    organisation_kind: str
    organisation_name: str
    role: str


@dataclass
class Principal:
    """The signed-in user and every role they hold."""

    user_id: str
    email: str
    name: str
    locale: str
    is_platform_admin: bool
    email_verified: bool = True  # False: signed in, but no role counts until the address is confirmed
    roles: list[Role] = field(default_factory=list)
    via: str = "token"  # "token" or "session"
    unread_notifications: int = 0  # pages only: the count in the header

    def has_role(self, *roles: str, organisation_id: str | None = None) -> bool:
        if "platform_admin" in roles and self.is_platform_admin:
            return True
        return any(
            r.role in roles and (organisation_id is None or r.organisation_id == str(organisation_id))
            for r in self.roles
        )

    def organisations(self, *roles: str) -> list[str]:
        return sorted({r.organisation_id for r in self.roles if not roles or r.role in roles})

    def organisation_kinds(self) -> set[str]:
        return {r.organisation_kind for r in self.roles}


async def load_principal(user_id: Any, via: str) -> Principal | None:
    from marketplace.accounts.tables import Membership, User

    user = await User.select().where((User.id == user_id) & (User.active == True)).first()  # noqa: E712
    if user is None:
        return None
    verified = user["email_verified_at"] is not None
    # Until its owner shows they read the address, an account acts for nobody (no squatting an official's address).
    memberships = await Membership.select(
        Membership.organisation.id,
        Membership.organisation.kind,
        Membership.organisation.name,
        Membership.role,
    ).where(Membership.user == user_id) if verified else []
    return Principal(
        user_id=str(user["id"]),
        email=user["email"],
        name=user["name"],
        locale=user["locale"],
        is_platform_admin=user["is_platform_admin"] and verified,
        email_verified=verified,
        roles=[
            Role(str(m["organisation.id"]), m["organisation.kind"], m["organisation.name"], m["role"])
            for m in memberships
        ],
        via=via,
    )


async def principal_from_token(token: str) -> Principal | None:
    from marketplace.accounts.tables import ApiToken

    row = await ApiToken.select(ApiToken.id, ApiToken.user).where(
        (ApiToken.token_hash == hash_token(token)) & ApiToken.revoked_at.is_null()
    ).first()
    if row is None:
        return None
    return await load_principal(row["user"], "token")


async def principal_from_session(cookie: str) -> Principal | None:
    from marketplace.accounts.tables import WebSession

    row = await WebSession.select(WebSession.user).where(
        (WebSession.token_hash == hash_token(cookie)) & (WebSession.expires_at > now())
    ).first()
    if row is None:
        return None
    principal = await load_principal(row["user"], "session")
    if principal is not None:
        from marketplace.mail.tables import Notification

        principal.unread_notifications = await Notification.count().where(
            (Notification.user == row["user"]) & Notification.read_at.is_null())
    return principal


acting_user: ContextVar[str | None] = ContextVar("acting_user", default=None)  # who the audit trail names


class AuthenticationMiddleware(ASGIMiddleware):
    """Puts the Principal (or None) in `scope["user"]`. The API authenticates by bearer token only,
    so a browser's cookie can never be used to call it (no CSRF on the API)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal: Principal | None = None
        path = scope.get("path", "")
        headers = dict(scope.get("headers", []))
        if path.startswith("/api/"):
            auth = headers.get(b"authorization", b"").decode("latin-1")
            if auth[:7].lower() == "bearer " and len(auth) < 200:
                principal = await principal_from_token(auth[7:].strip())
        else:
            cookie = _cookie(headers.get(b"cookie", b"").decode("latin-1"), SESSION_COOKIE)
            if cookie and len(cookie) < 200:
                principal = await principal_from_session(cookie)
        scope["user"] = principal
        scope["auth"] = None
        token = acting_user.set(principal.user_id if principal else None)
        try:
            await next_app(scope, receive, send)
        finally:
            acting_user.reset(token)


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


async def access(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app's single guard. See the module docstring. Async: Litestar runs a synchronous guard in a
    worker thread on every request."""
    allow = handler.opt.get("allow")
    if allow is None:
        path = connection.scope.get("path", "")
        if path.startswith(("/schema", "/static")):
            return
        raise Forbidden("This endpoint declares no access rule, so it is closed.")
    if allow == PUBLIC:
        return
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        raise NotAuthenticated()
    if allow == SIGNED_IN:
        return
    if not principal.has_role(*allow):
        raise Forbidden(f"This needs one of these roles: {', '.join(allow)}.", roles=allow)


def current(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if principal is None:
        raise NotAuthenticated()
    return principal


def allow(*roles: str) -> dict[str, Any]:
    """Route `opt` helper: `@post(..., opt=allow("civil_servant"))`."""
    if roles in ((PUBLIC,), (SIGNED_IN,)):
        return {"allow": roles[0]}
    return {"allow": list(roles)}
