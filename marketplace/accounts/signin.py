"""Sign-in: a password check behind a throttle that slows the attacker down, not the owner.

Every attempt is written *before* its password is checked, then the failures in each window are
counted, the attempt's own row included. Each row is committed before its count, so of N
concurrent attempts the k-th to be written counts at least k: no more than the limit are ever
checked, on SQLite and PostgreSQL alike, without locks. A refused attempt is marked `throttled`
and never counts as a failure, and no password is checked for it.

What is counted (failures only; limits in `SOURCE_RUNGS`, `ACCOUNT_RUNGS`, `IP_RUNGS`):
- per account and source (the IP address, or the known browser), with growing pauses: after 3
  failures in a minute, 5 in 15 minutes, 10 in an hour, 20 in a day;
- per account over every unknown browser (guessing from many addresses), and per IP address over
  every account (one address trying many accounts).
The owner keeps two ways in while an attacker is being slowed down: a browser they signed in
with before carries a signed `mp_device` cookie and is only held to its own counter; and a
sign-in link by e-mail (`accounts.email_links`) needs no password at all.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

from marketplace.accounts.tables import LoginAttempt, User
from marketplace.core.clock import as_utc, now
from marketplace.core.db import transaction
from marketplace.core.errors import Invalid, NotAuthenticated, TooManyRequests
from marketplace.core.security import same, sign, verify_dummy, verify_password
from marketplace.settings import get_settings
from marketplace.transparency.audit import record

DEVICE_COOKIE = "mp_device"
DEVICE_COOKIE_DAYS = 365
SOURCE_RUNGS = ((3, timedelta(minutes=1)), (5, timedelta(minutes=15)), (10, timedelta(hours=1)), (20, timedelta(days=1)))
IP_RUNGS = ((20, timedelta(minutes=15)), (100, timedelta(days=1)))
LONGEST = timedelta(days=1)
WRONG = "Wrong e-mail address or password."
THROTTLED = "Too many failed sign-ins for this account from here. Wait a little, or sign in with a link sent by e-mail."


def account_rungs() -> tuple[tuple[int, timedelta], ...]:
    """Failures per account from unknown browsers (`MARKETPLACE_LOGIN_MAX_FAILURES` in 15 minutes)."""
    limit = get_settings().login_max_failures
    return ((limit, timedelta(minutes=15)), (limit * 4, timedelta(days=1)))


def device_cookie_for(email: str) -> str:
    """A cookie that marks this browser as one `email` signed in with (signed, bound to the address)."""
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{sign(get_settings().secret_key, 'device', email, nonce)[:32]}"


def known_device(cookie: str | None, email: str) -> str | None:
    """The browser's id when `cookie` is a genuine device cookie for `email`, else None."""
    nonce, _, signature = (cookie or "")[:100].partition(".")
    if not nonce or not signature:
        return None
    return nonce if same(signature, sign(get_settings().secret_key, "device", email, nonce)[:32]) else None


def _wait_seconds(times: list[datetime], rungs: tuple[tuple[int, timedelta], ...], moment: datetime) -> int:
    """0 when every rung holds; else how long until enough failures leave the window."""
    wait = 0.0
    for limit, window in rungs:
        recent = sorted(t for t in times if t >= moment - window)
        if len(recent) > limit:
            wait = max(wait, (recent[len(recent) - limit - 1] + window - moment).total_seconds())
    return max(1, math.ceil(wait)) if wait else 0


async def _failure_times(condition: Any, moment: datetime) -> list[datetime]:
    rows = await LoginAttempt.select(LoginAttempt.at).where(
        condition & (LoginAttempt.succeeded == False) & (LoginAttempt.throttled == False)  # noqa: E712
        & (LoginAttempt.at >= moment - LONGEST)
    )
    return [as_utc(r["at"]) for r in rows]


async def throttle_wait(email: str, ip: str, device: str | None, moment: datetime) -> int:
    """Seconds this source must wait before its next password check (0: go ahead)."""
    if device:
        return _wait_seconds(await _failure_times((LoginAttempt.email == email) & (LoginAttempt.device == device), moment),
                             SOURCE_RUNGS, moment)
    unknown = LoginAttempt.device == ""
    return max(
        _wait_seconds(await _failure_times((LoginAttempt.email == email) & (LoginAttempt.ip_address == ip) & unknown, moment),
                      SOURCE_RUNGS, moment),
        _wait_seconds(await _failure_times((LoginAttempt.email == email) & unknown, moment), account_rungs(), moment),
        _wait_seconds(await _failure_times((LoginAttempt.ip_address == ip) & unknown, moment), IP_RUNGS, moment),
    )


async def check_password(email: str, password: str, ip: str, device_cookie: str | None = None) -> dict:
    """The active user whose address and password these are, through the throttle (429 with
    Retry-After when this source must wait; 401 for a wrong pair, the same for an unknown address)."""
    from marketplace.accounts.services import normalise_email

    try:
        email = normalise_email(email)
    except Invalid:
        raise NotAuthenticated(WRONG) from None
    device = known_device(device_cookie, email)
    moment = now()
    attempt = LoginAttempt(email=email, ip_address=ip[:64], device=device or "", at=moment)
    await attempt.save()  # committed before counting: see the module docstring
    wait = await throttle_wait(email, ip[:64], device, moment)
    if wait:
        await LoginAttempt.update({LoginAttempt.throttled: True}).where(LoginAttempt.id == attempt.id)
        raise TooManyRequests(THROTTLED, retry_after=wait)
    user = await User.select().where((User.email == email) & (User.active == True)).first()  # noqa: E712
    if user is None:
        await verify_dummy(password)
        ok = False
    else:
        ok = await verify_password(user["password_hash"], password)
    async with transaction():
        if ok:
            await LoginAttempt.update({LoginAttempt.succeeded: True}).where(LoginAttempt.id == attempt.id)
        await record(user["id"] if ok else "anonymous", "signin.succeeded" if ok else "signin.failed", "user",
                     user["id"] if user else "unknown", {"email_sha256": hashlib.sha256(email.encode()).hexdigest()}, ip=ip)
    if not ok:
        raise NotAuthenticated(WRONG)
    return user
