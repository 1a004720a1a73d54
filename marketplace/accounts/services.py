"""Accounts rules: registration, sign-in, tokens, sessions, invitations and incubator portfolios."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from datetime import timedelta
from typing import Any

from marketplace.accounts import email_links, schemas
from marketplace.accounts.signin import check_password
from marketplace.accounts.tables import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PortfolioLink,
    User,
    WebSession,
)
from marketplace.core.auth import BUYER_ROLES, Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    invalid,
)
from marketplace.core.i18n import N_
from marketplace.core.i18n import gettext as _
from marketplace.core.security import (
    hash_password,
    hash_token,
    new_token,
    password_problems,
    same,
    sign,
)
from marketplace.mail.services import enqueue_mail, tell_members
from marketplace.settings import get_settings
from marketplace.transparency.audit import record

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INVITATION_DAYS = 14
SESSION_DAYS = 14
ROLE_FOR_KIND = {"company": "company_member", "incubator": "incubator_member"}
ROLES_FOR_KIND = {
    "public_body": set(BUYER_ROLES),
    "company": {"company_member"},
    "incubator": {"incubator_member"},
}
CHECK_YOUR_MAIL = "We sent a link to this address. Open it within 24 hours to finish creating your account."


def normalise_email(email: str, field: str = "email") -> str:
    value = email.strip().lower()
    if not EMAIL_RE.match(value):
        raise invalid(field, "is not a valid e-mail address")
    return value


def name_problem(value: str) -> str | None:
    """Why a person's or organisation's name is refused, or None. Control and invisible formatting
    characters (new lines, right-to-left overrides, zero-width spaces) never belong in a name that
    e-mails, PDFs and pages repeat to other people."""
    if not value.strip():
        return "is required"
    if any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in value):
        return "must not contain control or invisible formatting characters"
    return None


def check_name(value: str, field: str) -> str:
    problem = name_problem(value)
    if problem:
        raise invalid(field, problem)
    return value.strip()


def parse_id(value: Any, what: str) -> uuid.UUID:
    """Ids are UUIDs; anything else is simply not found (never a 500)."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(what) from None


def organisation_out(row: dict) -> schemas.OrganisationOut:
    return schemas.OrganisationOut(
        id=str(row["id"]), kind=row["kind"], name=row["name"], country=row["country"],
        enterprise_number=row.get("enterprise_number"), size=row.get("size"), website=row.get("website"),
    )


def user_out(row: dict) -> schemas.UserOut:
    return schemas.UserOut(
        id=str(row["id"]), email=row["email"], name=row["name"], locale=row["locale"],
        is_platform_admin=row["is_platform_admin"], email_verified=row.get("email_verified_at") is not None,
    )


def _check_enterprise_number(value: str | None, country: str) -> str | None:
    """Belgian enterprise numbers (KBO/BCE) are 10 digits with a mod-97 check."""
    if not value:
        return None
    digits = re.sub(r"[^0-9]", "", value)
    if country == "BE":
        if len(digits) == 9:
            digits = "0" + digits
        if len(digits) != 10 or 97 - int(digits[:8]) % 97 != int(digits[8:]):
            raise invalid("organisation.enterprise_number", "is not a valid Belgian enterprise number (10 digits, e.g. 0123.456.749)")
        return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"
    return value.strip()


async def register(data: schemas.RegisterIn) -> schemas.RegistrationPendingOut:
    """A founder or incubator signs up. Nothing is created until the address is confirmed: a link
    goes to it, and the same answer comes back whether or not the address has an account (its owner
    is told by e-mail instead), so registration reveals nothing and nobody can take an address."""
    email = normalise_email(data.email)
    errors = [FieldError(field, problem) for field, problem in (
        ("name", name_problem(data.name)),
        ("organisation.name", name_problem(data.organisation.name)),
        ("password", password_problems(data.password, email, data.name)),
    ) if problem]
    if errors:
        raise Invalid(errors)
    org = data.organisation
    pending = {
        "name": data.name.strip(), "locale": data.locale,
        "password_hash": await hash_password(data.password),  # for known addresses too: both answers take as long
        "organisation": {"kind": org.kind, "name": org.name.strip(), "country": org.country, "size": org.size,
                         "enterprise_number": _check_enterprise_number(org.enterprise_number, org.country),
                         "website": org.website},
    }
    async with transaction():
        existing = await User.select().where(User.email == email).first()
        if existing is not None:
            await email_links.tell_owner_of_registration_attempt(existing)
        else:
            await email_links.send_registration_link(email, data.locale, pending)
    return schemas.RegistrationPendingOut(email=email, detail=CHECK_YOUR_MAIL)


async def create_founder(email: str, pending: dict) -> tuple[dict, dict]:
    """The confirmed registration: organisation, user (address verified) and membership; in the caller's transaction."""
    o = pending["organisation"]
    org = Organisation(kind=o["kind"], name=o["name"], country=o["country"], enterprise_number=o["enterprise_number"],
                       size=o["size"], website=o["website"])
    await org.save()
    user = User(email=email, name=pending["name"], password_hash=pending["password_hash"], locale=pending["locale"],
                email_verified_at=now())
    await user.save()
    await Membership.insert(Membership(user=user.id, organisation=org.id, role=ROLE_FOR_KIND[o["kind"]]))
    await record(user.id, "account.registered", "organisation", org.id, {"user": str(user.id), "kind": o["kind"]},
                 after={"role": ROLE_FOR_KIND[o["kind"]]})
    await enqueue_mail(email, "welcome", locale=user.locale, name=user.name, organisation=org.name)
    return user.to_dict(), org.to_dict()


async def confirm_registration(token: str) -> schemas.RegisterOut:
    """The link of a registration was opened: the account and its organisation now exist."""
    try:
        user, org = await email_links.use_registration_link(token)
    except Exception as exc:
        if is_integrity_error(exc):  # the same address confirmed twice at once
            raise Conflict("This address already has an account. Sign in instead.") from None
        raise
    return schemas.RegisterOut(user=user_out(user), organisation=organisation_out(org))


async def issue_token(data: schemas.TokenIn, ip: str) -> schemas.TokenOut:
    user = await check_password(data.email, data.password, ip)
    token = new_token()
    await ApiToken.insert(ApiToken(user=user["id"], token_hash=hash_token(token), name=data.name or "API token"))
    return schemas.TokenOut(token=token)


async def revoke_token(token: str) -> None:
    await ApiToken.update({ApiToken.revoked_at: now()}).where(ApiToken.token_hash == hash_token(token))


async def open_session(user_id: Any, ip: str, user_agent: str) -> str:
    """A web session for a signed-in user; returns the cookie value (only its hash is stored)."""
    token = new_token()
    await WebSession.insert(
        WebSession(user=user_id, token_hash=hash_token(token), expires_at=now() + timedelta(days=SESSION_DAYS),
                   ip_address=ip[:64], user_agent=user_agent[:300])
    )
    return token


async def close_session(cookie: str) -> None:
    await WebSession.delete().where(WebSession.token_hash == hash_token(cookie))


def me(principal: Principal) -> schemas.MeOut:
    memberships = [
        schemas.MembershipOut(
            organisation=schemas.OrganisationOut(
                id=r.organisation_id, kind=r.organisation_kind, name=r.organisation_name, country="", enterprise_number=None, size=None
            ),
            role=r.role,
        )
        for r in principal.roles
    ]
    roles = sorted({r.role for r in principal.roles} | ({"platform_admin"} if principal.is_platform_admin else set()))
    return schemas.MeOut(
        user=schemas.UserOut(id=principal.user_id, email=principal.email, name=principal.name, locale=principal.locale,
                             is_platform_admin=principal.is_platform_admin, email_verified=principal.email_verified),
        memberships=memberships,
        roles=roles,
    )


async def me_with_organisations(principal: Principal) -> schemas.MeOut:
    out = me(principal)
    ids = [uuid.UUID(m.organisation.id) for m in out.memberships]
    if ids:
        rows = {str(r["id"]): r for r in await Organisation.select().where(Organisation.id.is_in(ids))}
        for m in out.memberships:
            m.organisation = organisation_out(rows[m.organisation.id])
    return out


async def create_public_body(data: schemas.PublicBodyIn) -> schemas.OrganisationOut:
    ceiling = 3_000_000
    if data.budget_ceiling is not None:
        amount = data.budget_ceiling.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise invalid("budget_ceiling.amount", "must be a positive whole number of cents")
        if data.budget_ceiling.get("currency", "EUR") != "EUR":
            raise invalid("budget_ceiling.currency", "must be EUR")
        ceiling = amount
    org = Organisation(kind="public_body", name=check_name(data.name, "name"), country=data.country,
                       enterprise_number=data.enterprise_number, website=data.website, budget_ceiling_cents=ceiling)
    async with transaction():
        await org.save()
        await record(None, "admin.public_body_created", "organisation", org.id, {"name": org.name},  # by the signed-in admin
                     after={"budget_ceiling_cents": ceiling})
    return organisation_out(org.to_dict())


async def get_organisation(org_id: Any) -> dict:
    row = await Organisation.select().where(Organisation.id == parse_id(org_id, "organisation")).first()
    if row is None:
        raise NotFound("organisation")
    return row


def invitation_proof(token: str) -> str:
    """What only the invitation e-mail carries (the API hands the token to the inviter too): opening
    the mailed link shows the invited person reads that address."""
    return sign(get_settings().secret_key, "invitation-mail", token)[:32]


async def invite(principal: Principal, org_id: Any, data: schemas.InvitationIn) -> schemas.InvitationOut:
    """Invite someone to join an organisation with a role; the token is e-mailed to them.
    An organisation sends at most `MARKETPLACE_INVITATIONS_PER_DAY` in 24 hours (platform admins excepted)."""
    org = await get_organisation(org_id)
    oid = str(org["id"])
    if org["kind"] == "public_body":
        allowed = principal.is_platform_admin or principal.has_role("buyer_admin", organisation_id=oid)
    else:
        allowed = principal.is_platform_admin or principal.has_role(ROLE_FOR_KIND[org["kind"]], organisation_id=oid)
    if not allowed:
        raise Forbidden("Only the platform admin or this organisation's admin may invite people to it.")
    if data.role not in ROLES_FOR_KIND[org["kind"]]:
        raise invalid("role", f"is not a role of a {org['kind'].replace('_', ' ')}: choose one of {', '.join(sorted(ROLES_FOR_KIND[org['kind']]))}")
    email = normalise_email(data.email)
    token = new_token()
    moment = now()
    expires = moment + timedelta(days=INVITATION_DAYS)
    invitation = Invitation(organisation=org["id"], email=email, role=data.role, token_hash=hash_token(token),
                            invited_by=uuid.UUID(principal.user_id), created_at=moment, expires_at=expires)
    await invitation.save()  # written before counting, so concurrent invitations cannot all slip under the limit
    if not principal.is_platform_admin:
        await _within_daily_invitations(org["id"], invitation.id, moment)
    try:
        await record(principal, "invitation.sent", "organisation", org["id"], {"invitation": str(invitation.id), "role": data.role,
                     "email_sha256": hashlib.sha256(email.encode()).hexdigest()})
        await enqueue_mail(email, "invitation", locale=principal.locale, organisation=org["name"], role=data.role,
                           inviter=principal.name, token=token, proof=invitation_proof(token), expires_at=expires)
    except BaseException:
        await Invitation.delete().where(Invitation.id == invitation.id)
        raise
    return schemas.InvitationOut(id=str(invitation.id), token=token, email=email, role=data.role, organisation_id=oid,
                                 expires_at=rfc3339(expires) or "")


async def _within_daily_invitations(org_id: Any, invitation_id: Any, moment: Any) -> None:
    rows = await Invitation.select(Invitation.created_at).where(
        (Invitation.organisation == org_id) & (Invitation.created_at >= moment - timedelta(days=1))
    ).order_by(Invitation.created_at)
    limit = get_settings().invitations_per_day
    if len(rows) > limit:
        await Invitation.delete().where(Invitation.id == invitation_id)
        oldest = rows[len(rows) - limit - 1]["created_at"]
        wait = max(60, int((as_utc(oldest) + timedelta(days=1) - moment).total_seconds()))
        raise TooManyRequests("This organisation has sent as many invitations as it may in a day. Try again tomorrow.", retry_after=wait)


async def find_invitation(token: str) -> dict:
    if len(token) > 200:
        raise NotFound("invitation")
    row = await Invitation.select(
        Invitation.all_columns(), Invitation.organisation.name.as_alias("organisation_name")
    ).where(Invitation.token_hash == hash_token(token)).first()
    if row is None:
        raise NotFound("invitation")
    if row["accepted_at"] is not None:
        raise Conflict("This invitation has already been used. Sign in instead.")
    if row["expires_at"] <= now():
        raise Conflict("This invitation has expired. Ask for a new one.")
    return row


async def accept_invitation(token: str, data: schemas.AcceptInvitationIn, ip: str, proof: str = "") -> schemas.UserOut:
    """Accept an invitation: a new account, or a new role for an existing one (checked by its password,
    through the sign-in throttle). The role counts once the address is confirmed: at once when the
    mailed link was opened (`proof`), otherwise after a confirmation link we mail."""
    invitation = await find_invitation(token)
    email = invitation["email"]
    mailbox = bool(proof) and same(proof, invitation_proof(token))
    existing = await User.select().where(User.email == email).first()
    if existing is not None:
        try:
            await check_password(email, data.password, ip)
        except NotAuthenticated:
            raise invalid("password", "is not the password of the existing account for this e-mail address") from None
        password_hash = None
    else:
        name = check_name(data.name, "name")
        problem = password_problems(data.password, email, name)
        if problem:
            raise invalid("password", problem)
        password_hash = await hash_password(data.password)
    async with transaction():
        # Claim the invitation first, so that two concurrent accepts cannot both succeed.
        claimed = await Invitation.update({Invitation.accepted_at: now()}).where(
            (Invitation.id == invitation["id"]) & Invitation.accepted_at.is_null()
        ).returning(Invitation.id)
        if not claimed:
            raise Conflict("This invitation has already been used. Sign in instead.")
        if existing is None:
            new_user = User(email=email, name=name, password_hash=password_hash, email_verified_at=now() if mailbox else None)
            await new_user.save()
            user = new_user.to_dict()
        else:
            user = existing
            if mailbox and user["email_verified_at"] is None:
                await User.update({User.email_verified_at: now()}).where(User.id == user["id"])
                user["email_verified_at"] = now()
        already = await Membership.exists().where(
            (Membership.user == user["id"]) & (Membership.organisation == invitation["organisation"]) & (Membership.role == invitation["role"])
        )
        if not already:
            await Membership.insert(Membership(user=user["id"], organisation=invitation["organisation"], role=invitation["role"]))
            await record(user["id"], "role.granted", "organisation", invitation["organisation"], {"user": str(user["id"]),
                         "invitation": str(invitation["id"])}, after={"role": invitation["role"]})
        await Invitation.update({Invitation.accepted_by: user["id"]}).where(Invitation.id == invitation["id"])
        if user["email_verified_at"] is None:
            await email_links.send_confirmation_link(user)
    return user_out(user)


async def reset_password(token: str, password: str) -> dict:
    """Set a new password with a mailed reset link; ends every session and API token. Returns the user row."""
    link = await email_links.find_link(token)
    user = await User.select().where(User.id == link["user"]).first() if link["user"] else None
    if user is None or link["purpose"] != email_links.Purpose.reset_password:
        raise NotFound("link")
    problem = password_problems(password, user["email"], user["name"])
    if problem:
        raise invalid("password", problem)
    return await email_links.use_password_reset_link(token, await hash_password(password))


def _link_out(row: dict) -> schemas.PortfolioLinkOut:
    return schemas.PortfolioLinkOut(
        id=str(row["id"]), incubator_id=str(row["incubator"]), company_id=str(row["company"]), status=row["status"],
        created_at=rfc3339(row["created_at"]) or "", decided_at=rfc3339(row["decided_at"]),
    )


async def request_portfolio_link(principal: Principal, incubator_id: Any, company_id: str) -> schemas.PortfolioLinkOut:
    """An incubator asks a company to join its portfolio; the company must accept."""
    incubator = await get_organisation(incubator_id)
    if incubator["kind"] != "incubator" or not principal.has_role("incubator_member", organisation_id=str(incubator["id"])):
        raise Forbidden("Only a member of this incubator may add companies to its portfolio.")
    try:
        company = await get_organisation(company_id)
    except NotFound:
        raise invalid("company_id", "is not a registered company") from None
    if company["kind"] != "company":
        raise invalid("company_id", "is not a company")
    async with transaction():
        existing = await PortfolioLink.select().where(
            (PortfolioLink.incubator == incubator["id"]) & (PortfolioLink.company == company["id"])
        ).first()
        if existing is not None and existing["status"] != PortfolioLink.Status.declined:
            raise Conflict("This company is already in the portfolio or has a pending request.", [FieldError("company_id", "already linked")])
        if existing is not None:
            await PortfolioLink.delete().where(PortfolioLink.id == existing["id"])
        link = PortfolioLink(incubator=incubator["id"], company=company["id"], requested_by=uuid.UUID(principal.user_id))
        await link.save()
        await record(principal, "portfolio.requested", "organisation", company["id"], {"incubator": str(incubator["id"])},
                     after={"status": "pending"})
        words = {"incubator": incubator["name"], "company": company["name"]}
        await tell_members(company["id"], "company_member", "portfolio_request", "/account#portfolio",
                           N_("%(incubator)s asks to add %(company)s to its portfolio"), lambda: consent_explained(**words), words)
    return _link_out(link.to_dict())


def consent_explained(incubator: str, company: str) -> str:
    """What a company allows by accepting an incubator's portfolio request, in plain words (pages, notification, e-mail)."""
    return _("If you accept, %(incubator)s may start, edit and submit proposals in the name of %(company)s, and sees its "
             "proposals, experiments and payouts read-only. You are told of each proposal it makes and can withdraw it. "
             "You may also decline: nothing happens without your consent.", incubator=incubator, company=company)


async def decide_portfolio_link(principal: Principal, link_id: Any, accept: bool) -> schemas.PortfolioLinkOut:
    """The company consents to (or declines) an incubator's portfolio request."""
    link = await PortfolioLink.select().where(PortfolioLink.id == parse_id(link_id, "portfolio link")).first()
    if link is None:
        raise NotFound("portfolio link")
    if not principal.has_role("company_member", organisation_id=str(link["company"])):
        if principal.has_role("incubator_member", organisation_id=str(link["incubator"])):
            raise Forbidden("Only the company can accept or decline its portfolio link.")
        raise NotFound("portfolio link")
    if link["status"] != PortfolioLink.Status.pending:
        raise Conflict(f"This portfolio link is already {link['status']}.")
    status = PortfolioLink.Status.accepted if accept else PortfolioLink.Status.declined
    async with transaction():
        await PortfolioLink.update(
            {PortfolioLink.status: status, PortfolioLink.decided_at: now(), PortfolioLink.decided_by: uuid.UUID(principal.user_id)}
        ).where(PortfolioLink.id == link["id"])
        await record(principal, "portfolio.decided", "organisation", link["company"], {"incubator": str(link["incubator"])},
                     before={"status": link["status"]}, after={"status": status.value})
    link.update(status=status.value, decided_at=now())
    return _link_out(link)


async def portfolio_links_for(principal: Principal) -> list[dict]:
    """Every portfolio link the user's organisations take part in, with both names."""
    orgs = [uuid.UUID(o) for o in principal.organisations("company_member", "incubator_member")]
    if not orgs:
        return []
    return await PortfolioLink.select(
        PortfolioLink.all_columns(),
        PortfolioLink.incubator.name.as_alias("incubator_name"),
        PortfolioLink.company.name.as_alias("company_name"),
    ).where(PortfolioLink.incubator.is_in(orgs) | PortfolioLink.company.is_in(orgs)).order_by(PortfolioLink.created_at, ascending=False)


async def consenting_companies(incubator_ids: list[str]) -> list[str]:
    """Companies that accepted to be in one of these incubators' portfolios."""
    if not incubator_ids:
        return []
    rows = await PortfolioLink.select(PortfolioLink.company).where(
        PortfolioLink.incubator.is_in([uuid.UUID(i) for i in incubator_ids]) & (PortfolioLink.status == PortfolioLink.Status.accepted)
    )
    return [str(r["company"]) for r in rows]


async def create_admin(email: str, name: str, password: str | None, promote: bool = False) -> str:
    """A platform admin, from the command line. A new account needs `password`; an existing one is
    only made admin when `promote` says so, and its password never changes here. Returns the user id."""
    email = normalise_email(email)
    existing = await User.select().where(User.email == email).first()
    if existing is not None:
        if not promote:
            raise Conflict("An account with this address exists. Add --promote to make it a platform admin "
                           "(its password stays as it is).")
        async with transaction():
            await User.update({User.is_platform_admin: True, User.email_verified_at: existing["email_verified_at"] or now()}).where(
                User.id == existing["id"])
            await record("command line", "admin.granted", "user", existing["id"], {"password_reset": False},
                         before={"is_platform_admin": existing["is_platform_admin"]}, after={"is_platform_admin": True})
        return str(existing["id"])
    if promote:
        raise invalid("email", "has no account to promote: leave out --promote to create one")
    name = check_name(name, "name")
    problem = password_problems(password or "", email, name)
    if problem:
        raise invalid("password", problem)
    user = User(email=email, name=name, password_hash=await hash_password(password or ""), is_platform_admin=True,
                email_verified_at=now())  # the operator at the server's console vouches for the address
    async with transaction():
        await user.save()
        await record("command line", "admin.granted", "user", user.id, after={"is_platform_admin": True})
    return str(user.id)


async def find_companies(query: str, limit: int = 10) -> list[dict]:
    """Registered companies whose name or enterprise number matches `query` (incubators look them up to add them)."""
    query = query.strip()[:100]
    if len(query.replace("%", "").replace("_", "")) < 2:
        return []
    from piccolo.engine.sqlite import SQLiteEngine

    from marketplace.core.db import engine

    pattern = "%" + query.replace("%", "").replace("_", "") + "%"
    sqlite = isinstance(engine(), SQLiteEngine)  # its LIKE already ignores case; PostgreSQL needs ILIKE

    def contains(column: Any) -> Any:
        return column.like(pattern) if sqlite else column.ilike(pattern)

    condition = contains(Organisation.name)
    digits = re.sub(r"[^0-9]", "", query)
    if len(digits) >= 4:
        condition = condition | contains(Organisation.enterprise_number)
    if len(digits) in (9, 10):  # however it is typed, Belgian numbers are stored as 0123.456.749
        d = digits.zfill(10)
        condition = condition | (Organisation.enterprise_number == f"{d[:4]}.{d[4:7]}.{d[7:]}")
    return await Organisation.select(Organisation.id, Organisation.name, Organisation.enterprise_number).where(
        (Organisation.kind == "company") & condition).order_by(Organisation.name).limit(limit)
