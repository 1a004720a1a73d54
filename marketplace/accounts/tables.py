"""Accounts: organisations, users, memberships (with roles), tokens, sessions, invitations, portfolios."""

from enum import Enum

from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

DEFAULT_BUDGET_CEILING_CENTS = 3_000_000  # EUR 30,000 excl. VAT: the Belgian low-value ceiling


class Organisation(Table):
    class Kind(str, Enum):
        public_body = "public_body"
        company = "company"
        incubator = "incubator"

    class Size(str, Enum):
        micro = "micro"
        small = "small"
        medium = "medium"
        large = "large"

    id = UUID(primary_key=True)
    kind = Varchar(length=20, choices=Kind, index=True)
    name = Varchar(length=200)
    country = Varchar(length=2, default="BE")
    enterprise_number = Varchar(length=40, null=True, default=None)
    size = Varchar(length=10, choices=Size, null=True, default=None)
    website = Varchar(length=300, null=True, default=None)
    description = Text(default="")
    budget_ceiling_cents = BigInt(default=DEFAULT_BUDGET_CEILING_CENTS)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200)
    password_hash = Varchar(length=200)
    is_platform_admin = Boolean(default=False)
    locale = Varchar(length=5, default="en")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    email_verified_at = Timestamptz(null=True, default=None)
    """When the owner proved they read this address (a link we mailed it); until then no role counts."""


class Membership(Table):
    class Role(str, Enum):
        civil_servant = "civil_servant"
        procurement_officer = "procurement_officer"
        evaluator = "evaluator"
        buyer_admin = "buyer_admin"
        company_member = "company_member"
        incubator_member = "incubator_member"

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    role = Varchar(length=30, choices=Role)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    token_hash = Varchar(length=64, unique=True)
    name = Varchar(length=100, default="API token")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class WebSession(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ip_address = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")


class Invitation(Table):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    email = Varchar(length=254)
    role = Varchar(length=30, choices=Membership.Role)
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(references=User, null=True)


class PortfolioLink(Table):
    class Status(str, Enum):
        pending = "pending"
        accepted = "accepted"
        declined = "declined"

    id = UUID(primary_key=True)
    incubator = ForeignKey(references=Organisation, index=True)
    company = ForeignKey(references=Organisation, index=True)
    status = Varchar(length=10, choices=Status, default=Status.pending)
    requested_by = ForeignKey(references=User, null=True)
    decided_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class LoginAttempt(Table):
    """One sign-in attempt, recorded before the password is checked (see `accounts.signin`)."""

    id = UUID(primary_key=True)
    email = Varchar(length=254, index=True)
    ip_address = Varchar(length=64, index=True)
    device = Varchar(length=64, default="")  # the known browser it came from ("" = an unknown one)
    succeeded = Boolean(default=False)
    throttled = Boolean(default=False)  # refused before any password check; not a failure
    at = Timestamptz(default=TimestamptzNow(), index=True)


class EmailLink(Table):
    """A single-use link mailed to an address: finish a registration, confirm an address,
    sign in without a password, or choose a new password. Only an HMAC of the token is stored."""

    class Purpose(str, Enum):
        register = "register"
        verify_email = "verify_email"
        sign_in = "sign_in"
        reset_password = "reset_password"

    id = UUID(primary_key=True)
    purpose = Varchar(length=20, choices=Purpose)
    email = Varchar(length=254, index=True)
    user = ForeignKey(references=User, null=True, index=True)
    token_hash = Varchar(length=64, unique=True)
    payload = Text(default="")  # a pending registration (JSON), nothing else
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
