"""Zoho OAuth 2.0 for CRM and Projects connections.

* Self Client grant code → access + refresh token (``exchange_grant``).
* ``headers()`` keeps the access token fresh: refreshed ``refresh_margin`` seconds before
  expiry, single-flight (concurrent callers share one refresh).
* A revoked/invalid refresh token (Zoho answers ``{"error": "invalid_code"}``, often with
  HTTP 200) moves the connection to *authentication required*; from then on calls fail
  fast with ``ZohoAuthRequired`` instead of hammering the accounts server.
* Per-user sign-in (authorization-code redirect flow): ``authorize_url`` + signed ``state``
  (CSRF) + ``exchange_code``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol
from urllib.parse import urlencode

import aiohttp
import anyio
import msgspec

from adapters.http import Outcome, RemoteError

AUTH_HEADER = "Zoho-oauthtoken"


class StoredTokens(msgspec.Struct, frozen=True):
    refresh_token: str
    access_token: str = ""
    expires_at: float = 0.0
    api_domain: str = ""
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"StoredTokens(<hidden>, expires_at={self.expires_at}, scopes={self.scopes})"


class TokenStore(Protocol):
    async def load(self, connection: str) -> StoredTokens | None: ...
    async def save(self, connection: str, tokens: StoredTokens) -> None: ...
    async def clear(self, connection: str) -> None: ...


class MemoryTokenStore:
    def __init__(self) -> None:
        self.tokens: dict[str, StoredTokens] = {}

    async def load(self, connection: str) -> StoredTokens | None:
        return self.tokens.get(connection)

    async def save(self, connection: str, tokens: StoredTokens) -> None:
        self.tokens[connection] = tokens

    async def clear(self, connection: str) -> None:
        self.tokens.pop(connection, None)


class ZohoAuthRequired(RemoteError):
    """A person must re-authorise the connection (revoked token, bad grant code …)."""

    def __init__(self, message: str) -> None:
        super().__init__("zoho", f"authentication required: {message}", outcome=Outcome.AUTH)


class _TokenAnswer(msgspec.Struct):
    access_token: str = ""
    refresh_token: str = ""
    expires_in: int = 3600
    api_domain: str = ""
    scope: str = ""
    error: str = ""
    error_description: str = ""


class ZohoOAuth:
    """Tokens for one Zoho connection; implements ``adapters.http.AuthProvider``."""

    def __init__(self, connection: str, *, client_id: str, client_secret: str,
                 accounts_url: str, session: aiohttp.ClientSession, store: TokenStore,
                 refresh_margin: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.connection = connection
        self.client_id = client_id
        self._secret = client_secret
        self.accounts_url = accounts_url.rstrip("/")
        self._session = session
        self._store = store
        self._margin = refresh_margin
        self._clock = clock
        self._lock = anyio.Lock()
        self._tokens: StoredTokens | None = None
        self.auth_required: str = ""  # why a person must act; empty when usable
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"ZohoOAuth({self.connection!r}, client_id={self.client_id!r})"

    # -- AuthProvider ---------------------------------------------------------------------
    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"{AUTH_HEADER} {await self.access_token()}"}

    async def refresh_after_rejection(self, rejected: Mapping[str, str]) -> bool:
        """The API said 401 for ``rejected``: refresh once unless someone already did."""
        async with self._lock:
            tokens = await self._current()
            if f"{AUTH_HEADER} {tokens.access_token}" == rejected.get("Authorization"):
                await self._refresh(tokens)
            return not self.auth_required

    # -- tokens ---------------------------------------------------------------------------
    async def access_token(self) -> str:
        if self.auth_required:
            raise ZohoAuthRequired(self.auth_required)
        tokens = await self._current()
        if tokens.expires_at - self._margin > self._clock():
            return tokens.access_token
        async with self._lock:  # single flight: late arrivals find it refreshed
            tokens = await self._current()
            if tokens.expires_at - self._margin <= self._clock():
                tokens = await self._refresh(tokens)
            return tokens.access_token

    async def api_domain(self, default: str) -> str:
        tokens = await self._current()
        return tokens.api_domain or default

    async def granted_scopes(self) -> set[str]:
        return set((await self._current()).scopes)

    async def missing_scopes(self, required: Iterable[str]) -> list[str]:
        return missing_scopes(required, await self.granted_scopes())

    async def _current(self) -> StoredTokens:
        if self._tokens is None:
            self._tokens = await self._store.load(self.connection)
        if self._tokens is None:
            self.auth_required = "no tokens stored: exchange a grant code first"
            raise ZohoAuthRequired(self.auth_required)
        return self._tokens

    async def _refresh(self, tokens: StoredTokens) -> StoredTokens:
        answer = await self._token_request({
            "grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
            "client_id": self.client_id, "client_secret": self._secret})
        self.refreshes += 1
        fresh = StoredTokens(
            refresh_token=tokens.refresh_token, access_token=answer.access_token,
            expires_at=self._clock() + answer.expires_in,
            api_domain=answer.api_domain or tokens.api_domain,
            scopes=tuple(answer.scope.split()) if answer.scope else tokens.scopes)
        await self._save(fresh)
        return fresh

    async def exchange_grant(self, code: str, redirect_uri: str = "") -> StoredTokens:
        """Self Client code (or redirect-flow code) → stored access + refresh token."""
        form = {"grant_type": "authorization_code", "code": code,
                "client_id": self.client_id, "client_secret": self._secret}
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        answer = await self._token_request(form)
        if not answer.refresh_token:
            raise ZohoAuthRequired("the token answer carried no refresh token")
        tokens = StoredTokens(
            refresh_token=answer.refresh_token, access_token=answer.access_token,
            expires_at=self._clock() + answer.expires_in, api_domain=answer.api_domain,
            scopes=tuple(answer.scope.split()))
        self.auth_required = ""
        await self._save(tokens)
        return tokens

    async def stored(self) -> StoredTokens | None:
        """What the token store holds for this connection (None before the first grant)."""
        return await self._store.load(self.connection)

    async def use_refresh_token(self, refresh_token: str) -> None:
        """Adopt a refresh token issued elsewhere (declarative configuration)."""
        self.auth_required = ""
        await self._save(StoredTokens(refresh_token=refresh_token))

    async def revoke(self) -> None:
        """Revoke at Zoho and forget the tokens."""
        tokens = await self._store.load(self.connection)
        if tokens is not None:
            await self._post(f"{self.accounts_url}/oauth/v2/token/revoke",
                             {"token": tokens.refresh_token})
        await self._store.clear(self.connection)
        self._tokens = None
        self.auth_required = "connection revoked"

    async def _save(self, tokens: StoredTokens) -> None:
        self._tokens = tokens
        await self._store.save(self.connection, tokens)

    # -- wire -----------------------------------------------------------------------------
    async def _token_request(self, form: dict[str, str]) -> _TokenAnswer:
        status, body = await self._post(f"{self.accounts_url}/oauth/v2/token", form)
        try:
            answer = msgspec.json.decode(body, type=_TokenAnswer)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise RemoteError("zoho", f"accounts server answered HTTP {status} without JSON",
                              status=status, outcome=Outcome.TRANSIENT) from None
        if answer.access_token:
            return answer
        if answer.error in ("invalid_code", "invalid_client", "invalid_client_secret",
                            "invalid_redirect_uri", "unauthorized_client"):
            self.auth_required = _explain(answer.error)
            raise ZohoAuthRequired(self.auth_required)
        raise RemoteError("zoho", f"token request refused: {answer.error or status} "
                          f"{answer.error_description}".strip(), status=status,
                          outcome=Outcome.RATE_LIMITED if answer.error == "Access Denied"
                          else Outcome.TRANSIENT)

    async def _post(self, url: str, form: dict[str, str]) -> tuple[int, bytes]:
        try:
            async with self._session.post(url, data=form) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RemoteError("zoho", f"accounts server unreachable: {type(exc).__name__}",
                              outcome=Outcome.TRANSIENT) from exc

    # -- per-user sign-in (redirect flow) ---------------------------------------------------
    def authorize_url(self, redirect_uri: str, scopes: Iterable[str], state: str) -> str:
        query = urlencode({"response_type": "code", "client_id": self.client_id,
                           "scope": ",".join(scopes), "redirect_uri": redirect_uri,
                           "access_type": "offline", "prompt": "consent", "state": state})
        return f"{self.accounts_url}/oauth/v2/auth?{query}"

    async def exchange_code(self, code: str, redirect_uri: str) -> StoredTokens:
        """The ``code`` the consent page sent back to ``redirect_uri`` → stored tokens."""
        if not redirect_uri:
            raise ValueError("the redirect flow needs the redirect_uri used in authorize_url")
        return await self.exchange_grant(code, redirect_uri)


def missing_scopes(required: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The required scopes a token's grant does not cover (case-insensitive, ``.ALL`` aware)."""
    have = {s.lower() for s in granted}
    return [s for s in required if s.lower() not in have and not _covered_by_all(s, have)]


def _covered_by_all(scope: str, granted: set[str]) -> bool:
    """``ZohoCRM.modules.notes.ALL`` is covered by ``ZohoCRM.modules.ALL``, and so on."""
    parts = scope.lower().split(".")
    return any(".".join([*parts[:i], "all"]) in granted for i in range(2, len(parts)))


def _explain(error: str) -> str:
    return {
        "invalid_code": "the grant code or refresh token is invalid, expired or revoked; "
                        "generate a new code in the Zoho API console",
        "invalid_client": "the client id is unknown to this data center",
        "invalid_client_secret": "the client secret does not match the client id",
    }.get(error, f"Zoho refused the credentials ({error})")


class StateSigner:
    """CSRF ``state`` for the redirect flow: HMAC-signed, bound to a user, short-lived."""

    def __init__(self, key: bytes, ttl: float = 600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._ttl = ttl
        self._clock = clock

    def issue(self, user: str) -> str:
        payload = json.dumps({"u": user, "t": int(self._clock()),
                              "n": secrets.token_urlsafe(8)}, separators=(",", ":"))
        return f"{payload.encode().hex()}.{self._sign(payload)}"

    def verify(self, state: str) -> str:
        """The user the state was issued to; ValueError when forged or expired."""
        encoded, _, signature = state.partition(".")
        try:
            payload = bytes.fromhex(encoded).decode()
        except ValueError:
            raise ValueError("malformed state") from None
        if not hmac.compare_digest(self._sign(payload), signature):
            raise ValueError("state signature mismatch")
        data = json.loads(payload)
        if self._clock() - data["t"] > self._ttl:
            raise ValueError("state expired; start the sign-in again")
        return str(data["u"])

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
