"""Wire types of the accounts API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Password = Annotated[str, msgspec.Meta(max_length=512)]
Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
RoleName = Literal[
    "civil_servant", "procurement_officer", "evaluator", "buyer_admin", "company_member", "incubator_member"
]


class Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=False):
    """Base for request bodies: unknown fields are refused."""


class OrganisationIn(Strict):
    kind: Literal["company", "incubator"]
    name: Name
    country: Country = "BE"
    enterprise_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    size: Literal["micro", "small", "medium", "large"] | None = None
    website: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class RegisterIn(Strict):
    email: Email
    password: Password
    name: Name
    organisation: OrganisationIn
    locale: Literal["en", "fr", "nl"] = "en"


class TokenIn(Strict):
    email: Email
    password: Password
    name: Annotated[str, msgspec.Meta(max_length=100)] = "API token"


class PublicBodyIn(Strict):
    kind: Literal["public_body"]
    name: Name
    country: Country = "BE"
    enterprise_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    website: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    budget_ceiling: dict | None = None  # Money; validated in the service to name the field precisely


class InvitationIn(Strict):
    email: Email
    role: RoleName


class AcceptInvitationIn(Strict):
    name: Name
    password: Password
    proof: Annotated[str, msgspec.Meta(max_length=64)] = ""
    """From the link in the invitation e-mail (`?proof=`): confirms the address at once."""


class LinkTokenIn(Strict):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class EmailIn(Strict):
    email: Email


class PasswordResetIn(Strict):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: Password


class PortfolioIn(Strict):
    company_id: Annotated[str, msgspec.Meta(max_length=64)]


class OrganisationOut(msgspec.Struct):
    id: str
    kind: str
    name: str
    country: str
    enterprise_number: str | None
    size: str | None
    website: str | None = None


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    locale: str
    is_platform_admin: bool
    email_verified: bool = True


class MembershipOut(msgspec.Struct):
    organisation: OrganisationOut
    role: str


class MeOut(msgspec.Struct):
    user: UserOut
    memberships: list[MembershipOut]
    roles: list[str]


class RegisterOut(msgspec.Struct):
    user: UserOut
    organisation: OrganisationOut


class RegistrationPendingOut(msgspec.Struct):
    """The same answer whether or not the address has an account: the rest happens by e-mail."""

    email: str
    detail: str
    status: str = "pending_confirmation"


class AcceptedOut(msgspec.Struct):
    detail: str


class TokenOut(msgspec.Struct):
    token: str
    token_type: str = "Bearer"


class InvitationOut(msgspec.Struct):
    id: str
    token: str
    email: str
    role: str
    organisation_id: str
    expires_at: str


class PortfolioLinkOut(msgspec.Struct):
    id: str
    incubator_id: str
    company_id: str
    status: str
    created_at: str
    decided_at: str | None
