"""Passwords (Argon2id, argon2-cffi's RFC 9106 defaults) and TOTP codes (RFC 6238, pyotp).

A TOTP code is accepted in the current 30-second step or one step either side (clock drift), and
only in a step later than the last one accepted: a code seen once cannot be replayed.
"""

from __future__ import annotations

import hmac
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import BadInput

MIN_PASSWORD = 12
TOTP_STEP = 30
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so an unknown name costs what a wrong password costs.
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")


class CredentialError(BadInput):
    """A password or TOTP secret that cannot be set; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise CredentialError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise CredentialError("a password has at most 1024 characters")
    return _HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password[:1024]) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str = "Service centre hub") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def totp_step(secret: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to, if it is right and newer than ``last_step``; else None."""
    code = code.strip()
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // TOTP_STEP)
    for step in (current - 1, current, current + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None
