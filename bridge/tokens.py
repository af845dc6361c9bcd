"""Zoho OAuth tokens kept in the store's connections table (secrets encrypted at rest)."""

from __future__ import annotations

from adapters.zoho.oauth import StoredTokens
from bridge.store import Connection, Store
from bridge.store.base import ConnectionKind


class StoreTokenStore:
    """``adapters.zoho.oauth.TokenStore`` backed by the daemon's store."""

    def __init__(self, store: Store, kind: ConnectionKind) -> None:
        self._store = store
        self._kind = kind

    async def load(self, connection: str) -> StoredTokens | None:
        found = await self._store.get_connection(connection)
        if found is None or "refresh_token" not in found.secrets:
            return None
        settings = found.settings
        return StoredTokens(
            refresh_token=found.secrets["refresh_token"],
            access_token=found.secrets.get("access_token", ""),
            expires_at=float(settings.get("expires_at", 0.0)),
            api_domain=str(settings.get("api_domain", "")),
            scopes=tuple(settings.get("scopes", ())))

    async def save(self, connection: str, tokens: StoredTokens) -> None:
        await self._store.put_connection(Connection(
            name=connection, kind=self._kind, state="ok",
            settings={"expires_at": tokens.expires_at, "api_domain": tokens.api_domain,
                      "scopes": list(tokens.scopes)},
            secrets={"refresh_token": tokens.refresh_token,
                     "access_token": tokens.access_token}))

    async def clear(self, connection: str) -> None:
        await self._store.clear_connection_secrets(connection)
