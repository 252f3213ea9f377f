"""Password hashing (argon2id) and random secrets for sessions and API tokens."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Return a hash to verify against when the username is unknown, so that the response time
    does not reveal which usernames exist. It is made on first use, because hashing at import
    slowed every command."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return True when ``password`` matches; always spends one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Return why ``password`` is unacceptable, or None when it is acceptable.

    The rule is length only, as NCSC password guidance recommends: at least 12 characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters long"
    if password.strip() != password:
        return "must not start or end with a space"
    return None


def generate_password() -> str:
    """Return a random password of 20 URL-safe characters, for demo accounts."""
    return secrets.token_urlsafe(15)


def new_secret() -> str:
    """Return 256 bits of randomness as URL-safe text, for session cookies and token secrets."""
    return secrets.token_urlsafe(32)


def sha256_text(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_text(left: str, right: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


TOKEN_PREFIX = "agt"


def new_api_token() -> tuple[str, str, str]:
    """Return (token text shown once, token id, SHA-256 of the secret part)."""
    token_id = secrets.token_hex(6)
    secret = new_secret()
    return f"{TOKEN_PREFIX}_{token_id}_{secret}", token_id, sha256_text(secret)


def split_api_token(text: str) -> tuple[str, str] | None:
    """Split token text into (token id, secret), or None when it is not shaped like a token."""
    parts = text.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
