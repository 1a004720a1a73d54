"""Accounts API (HTTP only: parse, authorise, call one service, answer)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from marketplace.accounts import email_links, schemas, services
from marketplace.core.auth import PUBLIC, SIGNED_IN, allow, current

RESET_SENT = "If this address has an account, we sent it a link to choose a new password. It works once, within an hour."


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/auth/register", opt=allow(PUBLIC), status_code=HTTP_202_ACCEPTED)
    async def register(self, data: schemas.RegisterIn) -> schemas.RegistrationPendingOut:
        """Sign up a company or an incubator with its first member. The same answer for every address:
        a link goes to it, and the account exists once that link is confirmed (`/auth/register/confirm`)."""
        return await services.register(data)

    @post("/auth/register/confirm", opt=allow(PUBLIC), status_code=HTTP_201_CREATED)
    async def confirm_registration(self, data: schemas.LinkTokenIn) -> schemas.RegisterOut:
        """Finish a registration with the token of the link it mailed: the user and organisation now exist."""
        return await services.confirm_registration(data.token)

    @post("/auth/password-reset", opt=allow(PUBLIC), status_code=HTTP_202_ACCEPTED)
    async def request_password_reset(self, data: schemas.EmailIn) -> schemas.AcceptedOut:
        """Mail a password reset link (valid one hour, once) when the address has an account; the same answer either way."""
        await email_links.send_password_reset_link(services.normalise_email(data.email))
        return schemas.AcceptedOut(detail=RESET_SENT)

    @post("/auth/password-reset/confirm", opt=allow(PUBLIC), status_code=HTTP_204_NO_CONTENT)
    async def reset_password(self, data: schemas.PasswordResetIn) -> None:
        """Choose a new password with the mailed token: every session and API token of the account ends."""
        await services.reset_password(data.token, data.password)

    @post("/auth/tokens", opt=allow(PUBLIC), status_code=HTTP_201_CREATED)
    async def create_token(self, request: Request[Any, Any, Any], data: schemas.TokenIn) -> schemas.TokenOut:
        """Exchange an e-mail address and password for a bearer token (rate-limited)."""
        return await services.issue_token(data, client_ip(request))

    @delete("/auth/tokens/current", opt=allow(SIGNED_IN), status_code=HTTP_204_NO_CONTENT)
    async def revoke_current_token(self, request: Request[Any, Any, Any]) -> None:
        """Revoke the token this request is made with."""
        await services.revoke_token(request.headers.get("authorization", "")[7:].strip())

    @get("/me", opt=allow(SIGNED_IN))
    async def me(self, request: Request[Any, Any, Any]) -> schemas.MeOut:
        """The signed-in user, their memberships and roles."""
        return await services.me_with_organisations(current(request))


class OrganisationController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/organisations", opt=allow("platform_admin"), status_code=HTTP_201_CREATED)
    async def create_public_body(self, data: schemas.PublicBodyIn) -> schemas.OrganisationOut:
        """Create a public body (platform admin)."""
        return await services.create_public_body(data)

    @get("/organisations/{org_id:str}", opt=allow(PUBLIC))
    async def get_organisation(self, org_id: str) -> schemas.OrganisationOut:
        """An organisation's public profile."""
        return services.organisation_out(await services.get_organisation(org_id))

    @post("/organisations/{org_id:str}/invitations", opt=allow(SIGNED_IN), status_code=HTTP_201_CREATED)
    async def invite(self, request: Request[Any, Any, Any], org_id: str, data: schemas.InvitationIn) -> schemas.InvitationOut:
        """Invite someone to the organisation with a role (platform admin, or the organisation's admin)."""
        return await services.invite(current(request), org_id, data)

    @post("/invitations/{token:str}/accept", opt=allow(PUBLIC), status_code=HTTP_201_CREATED)
    async def accept_invitation(self, request: Request[Any, Any, Any], token: str, data: schemas.AcceptInvitationIn) -> schemas.UserOut:
        """Accept an invitation with a name and password (the role counts once the address is confirmed)."""
        return await services.accept_invitation(token, data, client_ip(request), data.proof)

    @post("/organisations/{org_id:str}/portfolio", opt=allow("incubator_member"), status_code=HTTP_201_CREATED)
    async def request_portfolio(self, request: Request[Any, Any, Any], org_id: str, data: schemas.PortfolioIn) -> schemas.PortfolioLinkOut:
        """An incubator asks a company to join its portfolio (pending until the company accepts)."""
        return await services.request_portfolio_link(current(request), org_id, data.company_id)

    @post("/portfolio-links/{link_id:str}/accept", opt=allow("company_member"), status_code=HTTP_200_OK)
    async def accept_portfolio(self, request: Request[Any, Any, Any], link_id: str) -> schemas.PortfolioLinkOut:
        """The company consents to the incubator acting for it."""
        return await services.decide_portfolio_link(current(request), link_id, accept=True)

    @post("/portfolio-links/{link_id:str}/decline", opt=allow("company_member"), status_code=HTTP_200_OK)
    async def decline_portfolio(self, request: Request[Any, Any, Any], link_id: str) -> schemas.PortfolioLinkOut:
        """The company declines the incubator's request."""
        return await services.decide_portfolio_link(current(request), link_id, accept=False)
