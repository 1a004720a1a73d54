"""Links mailed to an address, each single-use and short-lived: finish a registration, confirm an
address, sign in without a password, choose a new password.

A link's token is random (256 bits); the database keeps only an HMAC of it made with `SECRET_KEY`
and bound to the link's purpose, so a stored row cannot be turned back into a link, and a link made
for one purpose is worthless for another. A link is used by a conditional update (`used_at` still
empty, not expired), so it works once even when clicked twice at the same moment. At most
`MAILS_PER_HOUR` links of one purpose go to one address in an hour; asking for more answers the same
but sends nothing (no mail bombing through our forms).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from marketplace.accounts.tables import ApiToken, EmailLink, User, WebSession
from marketplace.core.clock import as_utc, now
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.security import new_token, sign
from marketplace.mail.services import enqueue_mail
from marketplace.settings import get_settings
from marketplace.transparency.audit import record

Purpose = EmailLink.Purpose
LIFETIME = {
    Purpose.register: timedelta(hours=24),
    Purpose.verify_email: timedelta(hours=24),
    Purpose.sign_in: timedelta(minutes=15),
    Purpose.reset_password: timedelta(hours=1),
}
MAILS_PER_HOUR = 3
USED = "This link has already been used or has expired. Ask for a new one."


def _token_hash(purpose: str, token: str) -> str:
    return sign(get_settings().secret_key, "email-link", purpose, token)


async def _new_link(purpose: Purpose, email: str, user_id: Any = None, payload: str = "") -> dict | None:
    """A fresh link (token, url, expires_at), or None when this address had its share this hour."""
    moment = now()
    row = EmailLink(purpose=purpose, email=email, user=user_id, token_hash="", payload=payload,
                    created_at=moment, expires_at=moment + LIFETIME[purpose])
    token = new_token()
    row.token_hash = _token_hash(purpose.value, token)
    await row.save()  # written before counting, like sign-in attempts: concurrent requests cannot all pass
    recent = await EmailLink.count().where(
        (EmailLink.email == email) & (EmailLink.purpose == purpose) & (EmailLink.created_at >= moment - timedelta(hours=1)))
    if recent > MAILS_PER_HOUR:
        await EmailLink.delete().where(EmailLink.id == row.id)
        return None
    return {"token": token, "url": f"{get_settings().base_url}/links/{token}", "expires_at": row.expires_at}


async def find_link(token: str) -> dict:
    """The unused, unexpired link for `token` (404 when unknown, 409 when used or expired)."""
    if not token or len(token) > 200:
        raise NotFound("link")
    row = await EmailLink.select().where(EmailLink.token_hash.is_in([_token_hash(p.value, token) for p in Purpose])).first()
    if row is None:
        raise NotFound("link")
    if row["used_at"] is not None or as_utc(row["expires_at"]) <= now():
        raise Conflict(USED)
    return row


async def _use(token: str, purpose: Purpose) -> dict:
    """Mark the link used (once, whatever the concurrency) and return it; call it in a transaction."""
    moment = now()
    rows = await EmailLink.update({EmailLink.used_at: moment}).where(
        (EmailLink.token_hash == _token_hash(purpose.value, token)) & EmailLink.used_at.is_null()
        & (EmailLink.expires_at > moment)
    ).returning(*EmailLink.all_columns())
    if not rows:
        await find_link(token)  # 404 or 409, with the reason
        raise Conflict(USED)
    return rows[0]


async def _active_user(email: str) -> dict | None:
    return await User.select().where((User.email == email) & (User.active == True)).first()  # noqa: E712


async def _mark_verified(user_id: Any) -> None:
    await User.update({User.email_verified_at: now()}).where((User.id == user_id) & User.email_verified_at.is_null())


# --- registration: nothing is created until the address is confirmed --------------------------


async def send_registration_link(email: str, locale: str, pending: dict) -> None:
    """Mail the link that creates the account; `pending` is the validated registration (hashed password)."""
    link = await _new_link(Purpose.register, email, payload=json.dumps(pending))
    if link:
        await enqueue_mail(email, "confirm_registration", locale=locale, name=pending["name"],
                           organisation=pending["organisation"]["name"], link=link["url"], expires_at=link["expires_at"])


async def tell_owner_of_registration_attempt(user: dict) -> None:
    """Someone registered with an address that has an account: tell its owner, with a way in."""
    email = user["email"]
    link = await _new_link(Purpose.sign_in, email, user["id"])
    if link:
        await enqueue_mail(email, "registration_attempt", locale=user["locale"], name=user["name"],
                           link=link["url"], expires_at=link["expires_at"])


async def use_registration_link(token: str) -> tuple[dict, dict]:
    """Create the account and organisation the link was mailed for. Returns (user, organisation) rows."""
    from marketplace.accounts.services import create_founder

    async with transaction():
        link = await _use(token, Purpose.register)
        if await User.exists().where(User.email == link["email"]):
            raise Conflict("This address already has an account. Sign in instead.")
        await EmailLink.update({EmailLink.payload: ""}).where(EmailLink.id == link["id"])  # the password hash goes
        return await create_founder(link["email"], json.loads(link["payload"]))


# --- confirming an address, signing in by e-mail, resetting a password -------------------------


async def send_confirmation_link(user: dict) -> None:
    """Mail `user` a link that confirms their address (until then, none of their roles counts)."""
    email = user["email"]
    link = await _new_link(Purpose.verify_email, email, user["id"])
    if link:
        await enqueue_mail(email, "confirm_email", locale=user["locale"], name=user["name"],
                           link=link["url"], expires_at=link["expires_at"])


async def _account_link(email: str, purpose: Purpose) -> tuple[dict, dict] | None:
    """(user, link) when `email` has an active account and is not over its hourly share, else None."""
    user = await _active_user(email)
    link = await _new_link(purpose, email, user["id"]) if user is not None else None
    return (user, link) if link else None


async def send_sign_in_link(email: str) -> None:
    """Mail a sign-in link when `email` has an account; otherwise nothing (the answer is the same)."""
    if found := await _account_link(email, Purpose.sign_in):
        user, link = found
        await enqueue_mail(email, "sign_in_link", locale=user["locale"], name=user["name"], link=link["url"],
                           expires_at=link["expires_at"])


async def send_password_reset_link(email: str) -> None:
    """Mail a password reset link when `email` has an account; otherwise nothing (the answer is the same)."""
    if found := await _account_link(email, Purpose.reset_password):
        user, link = found
        await enqueue_mail(email, "password_reset", locale=user["locale"], name=user["name"], link=link["url"],
                           expires_at=link["expires_at"])


async def _user_of(link: dict) -> dict:
    user = await User.select().where((User.id == link["user"]) & (User.email == link["email"]) & (User.active == True)).first()  # noqa: E712
    if user is None:
        raise Conflict(USED)
    return user


async def use_confirmation_link(token: str) -> dict:
    """The address is the owner's: their roles count from now on. Returns the user row."""
    async with transaction():
        user = await _user_of(await _use(token, Purpose.verify_email))
        await _mark_verified(user["id"])
        await record(user["id"], "account.email_confirmed", "user", user["id"])
    return user


async def use_sign_in_link(token: str) -> dict:
    """Sign in without a password (the link reached the owner's mailbox). Returns the user row."""
    async with transaction():
        user = await _user_of(await _use(token, Purpose.sign_in))
        await _mark_verified(user["id"])
        await record(user["id"], "signin.by_link", "user", user["id"])
    return user


async def use_password_reset_link(token: str, password_hash: str) -> dict:
    """Set the new password; every session, API token and other mailed link of the account ends."""
    async with transaction():
        user = await _user_of(await _use(token, Purpose.reset_password))
        moment = now()
        await User.update({User.password_hash: password_hash}).where(User.id == user["id"])
        await _mark_verified(user["id"])
        await WebSession.delete().where(WebSession.user == user["id"])
        await ApiToken.update({ApiToken.revoked_at: moment}).where((ApiToken.user == user["id"]) & ApiToken.revoked_at.is_null())
        await EmailLink.update({EmailLink.used_at: moment}).where((EmailLink.user == user["id"]) & EmailLink.used_at.is_null())
        await record(user["id"], "account.password_reset", "user", user["id"], {"sessions_and_tokens_ended": True})
        email = user["email"]
        await enqueue_mail(email, "password_changed", locale=user["locale"], name=user["name"])
    return user
