"""API tokens: shown once at creation, stored as a SHA-256 hash (they are 256 random bits,
so a slow password hash would add nothing but latency to every API call)."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

from bridge.store import ApiToken, Store
from bridge.store.base import TokenRole

PREFIX = "bzt_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(store: Store, role: TokenRole, label: str = "") -> tuple[ApiToken, str]:
    """A new token record and the token itself (the only time it is ever visible)."""
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(id=uuid.uuid4().hex[:12], label=label or f"{role} token", role=role,
                      created_at=time.time())
    await store.put_api_token(record, token_hash(token))
    return record, token


async def authenticate(store: Store, token: str) -> ApiToken | None:
    if not token.startswith(PREFIX):
        return None
    return await store.find_api_token(token_hash(token))
