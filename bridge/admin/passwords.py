"""Argon2 password hashes for the local UI accounts in the config."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password is empty")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy() -> str:
    return _hasher.hash("decoy password for unknown user names")


def spend_like_a_check(password: str) -> None:
    """Take as long as a real check, so answers do not reveal which user names exist."""
    verify_password(_decoy(), password)
