"""Account pages: sign up, sign in, sign out, invitations, the account page, notifications, admin."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from marketplace.accounts import schemas, services
from marketplace.accounts.controllers import client_ip
from marketplace.accounts.signin import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_DAYS,
    check_password,
    device_cookie_for,
    known_device,
)
from marketplace.accounts.tables import Invitation, Membership, Organisation
from marketplace.core.auth import PUBLIC, SESSION_COOKIE, SIGNED_IN, allow, current, load_principal
from marketplace.core.clock import now
from marketplace.core.errors import DomainError, FieldError, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.core.security import password_problems
from marketplace.mail.services import notification_title
from marketplace.mail.tables import Notification
from marketplace.settings import get_settings
from marketplace.web.pages import convert, errors_by_field, form_text, page, safe_next, see_other

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SESSION_MAX_AGE = services.SESSION_DAYS * 24 * 3600
CONFIRM_SENT = "We sent a link to your e-mail address. Open it to confirm the address: your roles count from then on."


async def signed_in_redirect(request: Request[Any, Any, Any], user: dict, target: str, notice: str | None = None) -> Redirect:
    """Open a session for `user` and go to `target`; the browser is remembered as one the owner uses
    (its failed sign-ins then only count against itself: see `accounts.signin`)."""
    cookie = await services.open_session(user["id"], client_ip(request), request.headers.get("user-agent", ""))
    response = see_other(target, notice)
    secure = get_settings().secure_cookies
    response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_MAX_AGE, httponly=True, samesite="lax", secure=secure, path="/")
    if known_device(request.cookies.get(DEVICE_COOKIE), user["email"]) is None:
        response.set_cookie(DEVICE_COOKIE, device_cookie_for(user["email"]), max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
                            httponly=True, samesite="lax", secure=secure, path="/")
    return response


@get("/signup", opt=allow(PUBLIC), include_in_schema=False)
async def signup_form(request: Request[Any, Any, Any], kind: str = "company") -> Template:
    return page(request, "accounts/signup.html", form={"kind": kind if kind in ("company", "incubator") else "company", "country": "BE"})


@post("/signup", opt=allow(PUBLIC), include_in_schema=False)
async def signup(request: Request[Any, Any, Any], data: Form) -> Any:
    form = {k: form_text(data, k, 500) for k in ("name", "email", "password", "kind", "org_name", "country", "enterprise_number", "size")}
    try:
        payload = convert(
            {
                "email": form["email"], "password": form["password"], "name": form["name"],
                "organisation": {
                    "kind": form["kind"], "name": form["org_name"], "country": (form["country"] or "BE").upper(),
                    "enterprise_number": form["enterprise_number"] or None, "size": form["size"] or None,
                },
                "locale": _current_locale(),
            },
            schemas.RegisterIn,
        )
        result = await services.register(payload)
    except DomainError as exc:
        if not any(e.field == "password" for e in exc.errors):  # every mistake at once, the password's too
            weak = _("this is required") if not form["password"] else password_problems(form["password"], form["email"], form["name"])
            exc.errors += [FieldError("password", weak)] if weak else []
        rename = {"organisation.name": "org_name"}
        errors = {rename.get(k, k.removeprefix("organisation.")): v for k, v in errors_by_field(exc).items()}
        form["password"] = ""
        return page(request, "accounts/signup.html", status_code=exc.status, form=form, errors=errors)
    return page(request, "accounts/check_email.html", email=result.email, message=_(services.CHECK_YOUR_MAIL))


def _current_locale() -> str:
    from marketplace.core.i18n import current_locale

    return current_locale.get()


@get("/signin", opt=allow(PUBLIC), include_in_schema=False)
async def signin_form(request: Request[Any, Any, Any], next: str | None = None) -> Template:
    return page(request, "accounts/signin.html", form={"next": safe_next(next, "")})


async def landing_path(user_id: Any) -> str:
    """Where a person lands after signing in without a `next`: the page with what they do next."""
    principal = await load_principal(user_id, "session")
    if principal is None:
        return "/account"
    if principal.is_platform_admin:
        return "/admin/organisations"
    for roles, path in ((("civil_servant", "procurement_officer", "buyer_admin"), "/my/challenges"),
                        (("company_member", "incubator_member"), "/proposals"),  # my proposals / the portfolio pipeline
                        (("evaluator",), "/evaluations")):
        if principal.has_role(*roles):
            return path
    return "/account"


@post("/signin", opt=allow(PUBLIC), include_in_schema=False)
async def signin(request: Request[Any, Any, Any], data: Form) -> Any:
    email, password = form_text(data, "email", 254), form_text(data, "password", 512)
    target = safe_next(form_text(data, "next", 500), "")
    try:
        user = await check_password(email, password, client_ip(request), request.cookies.get(DEVICE_COOKIE))
    except DomainError as exc:
        return page(request, "accounts/signin.html", status_code=exc.status, headers=exc.headers,
                    form={"email": email, "next": target}, errors={"_form": _(exc.detail)}, throttled=exc.status == 429)
    return await signed_in_redirect(request, user, target or await landing_path(user["id"]))


@post("/signout", opt=allow(PUBLIC), include_in_schema=False)
async def signout(request: Request[Any, Any, Any]) -> Redirect:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await services.close_session(cookie)
    response = see_other("/", _("You are signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/invitations/{token:str}", opt=allow(PUBLIC), include_in_schema=False)
async def invitation_form(request: Request[Any, Any, Any], token: str, proof: str = "") -> Template:
    proof = proof[:64]
    try:
        invitation = await services.find_invitation(token)
    except DomainError as exc:
        return page(request, "accounts/invitation.html", status_code=exc.status, invitation=None, problem=_(exc.detail), token=token)
    return page(request, "accounts/invitation.html", invitation=invitation, problem=None, token=token, proof=proof)


@post("/invitations/{token:str}", opt=allow(PUBLIC), include_in_schema=False)
async def invitation_accept(request: Request[Any, Any, Any], token: str, data: Form) -> Any:
    name, password, proof = form_text(data, "name", 200), form_text(data, "password", 512), form_text(data, "proof", 64)
    try:
        invitation = await services.find_invitation(token)
    except DomainError as exc:
        return page(request, "accounts/invitation.html", status_code=exc.status, invitation=None, problem=_(exc.detail), token=token)
    try:
        user = await services.accept_invitation(token, schemas.AcceptInvitationIn(name=name or "-", password=password),
                                                client_ip(request), proof)
    except DomainError as exc:
        return page(request, "accounts/invitation.html", status_code=exc.status, headers=exc.headers, invitation=invitation,
                    problem=None, token=token, proof=proof, form={"name": name}, errors=errors_by_field(exc))
    notice = _("Invitation accepted. Welcome!") if user.email_verified else _(CONFIRM_SENT)
    return await signed_in_redirect(request, {"id": uuid.UUID(user.id), "email": user.email}, "/account", notice)


@get("/account", opt=allow(SIGNED_IN), include_in_schema=False)
async def account(request: Request[Any, Any, Any], company_q: str = "") -> Template:
    principal = current(request)
    company_q = company_q.strip()[:100]
    found_companies = await services.find_companies(company_q) if company_q and principal.has_role("incubator_member") else []
    me = await services.me_with_organisations(principal)
    links = await services.portfolio_links_for(principal)
    invitable = [m.organisation for m in me.memberships
                 if (m.organisation.kind == "public_body" and m.role == "buyer_admin")
                 or (m.organisation.kind != "public_body" and m.role in ("company_member", "incubator_member"))]
    invitable = list({o.id: o for o in invitable}.values())
    members: dict[str, list[dict]] = {}
    for org in {m.organisation.id: m.organisation for m in me.memberships}.values():
        members[org.id] = await Membership.select(Membership.user.name, Membership.user.email, Membership.role).where(
            Membership.organisation == uuid.UUID(org.id)).order_by(Membership.user.name)
    return page(request, "accounts/account.html", me=me, links=links, invitable=invitable, members=members,
                company_q=company_q, found_companies=found_companies, consent_explained=services.consent_explained,
                roles_for_kind={k: sorted(v) for k, v in services.ROLES_FOR_KIND.items()})


@post("/account/invitations", opt=allow(SIGNED_IN), include_in_schema=False)
async def account_invite(request: Request[Any, Any, Any], data: Form) -> Any:
    principal = current(request)
    org_id = form_text(data, "organisation_id", 64)
    try:
        payload = convert({"email": form_text(data, "email", 254), "role": form_text(data, "role", 40)}, schemas.InvitationIn)
        invitation = await services.invite(principal, org_id, payload)
    except DomainError as exc:
        return see_other("/account", _("The invitation was not sent: %(reason)s") % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    return see_other("/account", _("Invitation sent to %(email)s.") % {"email": invitation.email})


@post("/account/portfolio", opt=allow("incubator_member"), include_in_schema=False)
async def account_portfolio_request(request: Request[Any, Any, Any], data: Form) -> Any:
    principal = current(request)
    try:
        await services.request_portfolio_link(principal, form_text(data, "incubator_id", 64), form_text(data, "company_id", 64))
    except DomainError as exc:
        return see_other("/account", _("The request was not sent: %(reason)s") % {"reason": "; ".join(errors_by_field(exc).values())}, error=True)
    return see_other("/account", _("Request sent. The company must accept it."))


@post("/account/portfolio/{link_id:str}/{decision:str}", opt=allow("company_member"), include_in_schema=False)
async def account_portfolio_decide(request: Request[Any, Any, Any], link_id: str, decision: str) -> Any:
    try:
        await services.decide_portfolio_link(current(request), link_id, accept=decision == "accept")
    except DomainError as exc:
        return see_other("/account", _(exc.detail), error=True)
    return see_other("/account", _("Portfolio link accepted.") if decision == "accept" else _("Portfolio link declined."))


@get("/notifications", opt=allow(SIGNED_IN), include_in_schema=False)
async def notifications(request: Request[Any, Any, Any]) -> Template:
    principal = current(request)
    rows = await Notification.select().where(Notification.user == uuid.UUID(principal.user_id)).order_by(
        Notification.created_at, ascending=False).limit(100)
    for row in rows:
        row["title"] = notification_title(row)  # in the language the reader uses now
    return page(request, "accounts/notifications.html", notifications=rows)


@get("/notifications/{notification_id:uuid}", opt=allow(SIGNED_IN), include_in_schema=False)
async def notification_open(request: Request[Any, Any, Any], notification_id: uuid.UUID) -> Redirect:
    """Follow a notification: it is marked read, and you land where it points."""
    principal = current(request)
    mine = (Notification.id == notification_id) & (Notification.user == uuid.UUID(principal.user_id))
    row = await Notification.select(Notification.link, Notification.read_at).where(mine).first()
    if row is None:
        raise NotFound("notification")
    if row["read_at"] is None:
        await Notification.update({Notification.read_at: now()}).where(mine)
    return see_other(safe_next(row["link"], "/notifications"))


@post("/notifications/read", opt=allow(SIGNED_IN), include_in_schema=False)
async def notifications_read(request: Request[Any, Any, Any]) -> Redirect:
    principal = current(request)
    await Notification.update({Notification.read_at: now()}).where(
        (Notification.user == uuid.UUID(principal.user_id)) & Notification.read_at.is_null())
    return see_other("/notifications", _("Every notification is marked as read."))


@get("/admin/organisations", opt=allow("platform_admin"), include_in_schema=False)
async def admin_organisations(request: Request[Any, Any, Any]) -> Template:
    bodies = await Organisation.select().where(Organisation.kind == "public_body").order_by(Organisation.name)
    pending = await Invitation.select(Invitation.email, Invitation.role, Invitation.organisation.name, Invitation.expires_at).where(
        Invitation.accepted_at.is_null()).order_by(Invitation.created_at, ascending=False).limit(50)
    return page(request, "accounts/admin_organisations.html", bodies=bodies, pending=pending,
                buyer_roles=sorted(services.ROLES_FOR_KIND["public_body"]))


@post("/admin/organisations", opt=allow("platform_admin"), include_in_schema=False)
async def admin_create_public_body(request: Request[Any, Any, Any], data: Form) -> Any:
    form = {k: form_text(data, k, 300) for k in ("name", "country", "enterprise_number", "ceiling_euros")}
    try:
        ceiling = None
        if form["ceiling_euros"].strip():
            try:
                ceiling = {"amount": int(round(float(form["ceiling_euros"].replace(",", ".")) * 100)), "currency": "EUR"}
            except ValueError:
                from marketplace.core.errors import invalid

                raise invalid("ceiling_euros", "must be an amount in euros, e.g. 30000") from None
        payload = convert({"kind": "public_body", "name": form["name"], "country": (form["country"] or "BE").upper(),
                           "enterprise_number": form["enterprise_number"] or None, "budget_ceiling": ceiling}, schemas.PublicBodyIn)
        org = await services.create_public_body(payload)
    except DomainError as exc:
        bodies = await Organisation.select().where(Organisation.kind == "public_body").order_by(Organisation.name)
        errs = errors_by_field(exc)
        if "budget_ceiling.amount" in errs:
            errs["ceiling_euros"] = errs.pop("budget_ceiling.amount")
        return page(request, "accounts/admin_organisations.html", status_code=exc.status, bodies=bodies, pending=[], form=form,
                    errors=errs, buyer_roles=sorted(services.ROLES_FOR_KIND["public_body"]))
    return see_other("/admin/organisations", _("%(name)s was created. Now invite its staff.") % {"name": org.name})
