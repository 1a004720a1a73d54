"""Password hashing (argon2id) and opaque tokens (stored only as SHA-256 hashes)."""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # Tests and the demo loader may ask for cheaper parameters; production keeps argon2's defaults.
    if os.environ.get("MARKETPLACE_FAST_PASSWORD_HASH") == "1":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash to verify against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH: str | None = None


def verify_dummy(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    verify_password(_DUMMY_HASH, password)


def password_problems(password: str, email: str = "", name: str = "") -> str | None:
    """Why a password is too weak, or None. Length first (NIST SP 800-63B), then the obvious."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > 512:
        return "must be at most 512 characters long"
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return "is too repetitive"
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return "must not contain your e-mail address"
    if lowered in _COMMON:
        return "is one of the most common passwords"
    return None


_COMMON = {
    "password12", "password123", "1234567890", "qwertyuiop", "123456789a", "iloveyou12",
    "passw0rd12", "azertyuiop", "welcome123", "letmein123", "administrator", "wachtwoord1",
    "motdepasse1", "changeme123",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
