"""Zoho accounts server: token grants, refresh, revoke, and an auto-approving consent page.

Behaves like accounts.zoho.*: parameters in the query string or form body; errors such as
``{"error": "invalid_code"}`` answered with HTTP 200; grant codes single-use and
short-lived; at most ``refresh_limit`` access tokens per refresh token per 10 minutes.
Token caps as Zoho documents them: at most ``access_token_cap`` (30) live access tokens
per refresh token and ``refresh_token_cap`` (20) refresh tokens per user; the next one
issued deletes the oldest, which from then on answers as an invalid token.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

DEFAULT_SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL", "ZohoCRM.org.READ",
                  "ZohoCRM.users.READ", "ZohoCRM.notifications.ALL", "ZohoCRM.coql.READ",
                  "ZohoProjects.portals.READ", "ZohoProjects.projects.READ",
                  "ZohoProjects.tasks.ALL", "ZohoProjects.bugs.ALL", "ZohoPC.files.ALL",
                  "WorkDrive.files.ALL",
                  "AaaServer.profile.Read")
DEFAULT_USER = "admin@example.com"
THROTTLED = {"error_description": "You have made too many requests continuously. Please try "
             "again after some time.", "error": "Access Denied", "status": "failure"}


@dataclass
class _Client:
    secret: str
    scopes: tuple[str, ...]


@dataclass
class _Grant:
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    redirect_uri: str = ""


@dataclass
class _Refresh:
    client_id: str
    scopes: tuple[str, ...]
    user: str = DEFAULT_USER
    issued: list[float] = field(default_factory=list)  # refresh grants in the last 10 min
    access: list[str] = field(default_factory=list)  # its access tokens, oldest first


class ZohoAccountsSimulator:
    """State of one accounts server; ``client_id``/``client_secret`` is the default client."""

    def __init__(self, *, client_id: str = "1000.SIMULATORCLIENT",
                 client_secret: str = "sim-zoho-client-secret",
                 scopes: Iterable[str] = DEFAULT_SCOPES, api_domain: str = "",
                 token_ttl: int = 3600, grant_ttl: float = 180.0, refresh_limit: int = 10,
                 access_token_cap: int = 30, refresh_token_cap: int = 20,
                 clock: Callable[[], float] = time.time) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = tuple(scopes)
        self.api_domain = api_domain
        self.token_ttl = token_ttl
        self.grant_ttl = grant_ttl
        self.refresh_limit = refresh_limit
        self.access_token_cap = access_token_cap
        self.refresh_token_cap = refresh_token_cap
        self._clock = clock
        self._counter = itertools.count(1)
        self._grants: dict[str, _Grant] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, tuple[str, float]] = {}
        self.clients: dict[str, _Client] = {}
        self.add_client(client_id, client_secret, self.scopes)
        self.revoked: set[str] = set()
        self.refresh_hits = 0

    # -- used by other simulators and tests ------------------------------------------------
    def _token(self) -> str:
        digest = hashlib.sha256(f"zoho-sim-{next(self._counter)}".encode()).hexdigest()
        return f"1000.{digest[:32]}.{digest[32:]}"

    def add_client(self, client_id: str, client_secret: str, scopes: Iterable[str]) -> None:
        """Register another Self Client / server-based client."""
        self.clients[client_id] = _Client(client_secret, tuple(scopes))

    def issue_grant_code(self, scopes: Iterable[str] | None = None,
                         redirect_uri: str = "", client_id: str | None = None) -> str:
        """A single-use grant code, as the developer console's Self Client hands out."""
        client = client_id or self.client_id
        code = self._token()
        self._grants[code] = _Grant(client, tuple(scopes or self.clients[client].scopes),
                                    self._clock() + self.grant_ttl, redirect_uri)
        return code

    def issue_refresh_token(self, scopes: Iterable[str] | None = None,
                            client_id: str | None = None, user: str = DEFAULT_USER) -> str:
        """A refresh token for ``user``; past the cap the user's oldest one is deleted."""
        client = client_id or self.client_id
        owned = [t for t, r in self._refresh.items() if r.user == user]
        for oldest in owned[:max(0, len(owned) - self.refresh_token_cap + 1)]:
            self.revoke(oldest)
        token = self._token()
        self._refresh[token] = _Refresh(client, tuple(scopes or self.clients[client].scopes),
                                        user)
        return token

    def issue_access_token(self, refresh_token: str) -> str:
        """A fresh access token; past the cap the refresh token's oldest live one is
        deleted."""
        entry = self._refresh[refresh_token]
        now = self._clock()
        entry.access = [t for t in entry.access if self._access.get(t, ("", 0.0))[1] > now]
        while len(entry.access) >= self.access_token_cap:
            self._access.pop(entry.access.pop(0), None)
        token = self._token()
        self._access[token] = (refresh_token, now + self.token_ttl)
        entry.access.append(token)
        return token

    def is_valid_access_token(self, token: str) -> bool:
        found = self._access.get(token)
        return found is not None and found[1] > self._clock() and found[0] in self._refresh

    def scopes_for(self, token: str) -> set[str]:
        found = self._access.get(token)
        return set(self._refresh[found[0]].scopes) if found and found[0] in self._refresh \
            else set()

    def revoke(self, refresh_token: str) -> bool:
        """Revoke a refresh token and every access token issued from it."""
        if self._refresh.pop(refresh_token, None) is None:
            return False
        self.revoked.add(refresh_token)
        return True

    def expire_access_tokens(self) -> None:
        self._access = {t: (r, 0.0) for t, (r, _) in self._access.items()}

    # -- HTTP --------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/v2/token", self._token_endpoint)
        app.router.add_post("/oauth/v2/token/revoke", self._revoke_endpoint)
        app.router.add_post("/oauth/v2/revoke/token", self._revoke_endpoint)
        app.router.add_get("/oauth/v2/auth", self._authorize)
        app.router.add_get("/oauth/serverinfo", self._server_info)
        app.router.add_post("/_sim/grant-code", self._sim_grant_code)
        return app

    async def _sim_grant_code(self, request: web.Request) -> web.Response:
        """The developer console's "Generate code" for the Self Client (JSON ``scopes`` list
        optional: the client's own scopes by default)."""
        body = await request.json() if request.can_read_body else {}
        scopes = body.get("scopes") if isinstance(body, dict) else None
        return web.json_response({"code": self.issue_grant_code(scopes or None),
                                  "client_id": self.client_id})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.can_read_body:
            params.update({k: str(v) for k, v in (await request.post()).items()})
        return params

    async def _token_endpoint(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            return web.json_response({"error": "invalid_client"})
        if params.get("client_secret") != client.secret:
            return web.json_response({"error": "invalid_client_secret"})
        match params.get("grant_type"):
            case "authorization_code":
                return self._exchange(params)
            case "refresh_token":
                return self._refresh_grant(params)
        return web.json_response({"error": "unsupported_grant_type"})

    def _exchange(self, params: dict[str, str]) -> web.Response:
        grant = self._grants.pop(params.get("code", ""), None)  # single use
        if grant is None or grant.expires_at < self._clock() \
                or grant.client_id != params["client_id"]:
            return web.json_response({"error": "invalid_code"})
        if grant.redirect_uri and grant.redirect_uri != params.get("redirect_uri"):
            return web.json_response({"error": "invalid_redirect_uri"})
        refresh = self.issue_refresh_token(grant.scopes, grant.client_id)
        return self._grant_answer(refresh, include_refresh=True)

    def _refresh_grant(self, params: dict[str, str]) -> web.Response:
        refresh_token = params.get("refresh_token", "")
        entry = self._refresh.get(refresh_token)
        if entry is None or entry.client_id != params["client_id"]:
            return web.json_response({"error": "invalid_code"})
        now = self._clock()
        entry.issued = [t for t in entry.issued if now - t < 600]
        if len(entry.issued) >= self.refresh_limit:
            return web.json_response(THROTTLED, status=400)
        entry.issued.append(now)
        self.refresh_hits += 1
        return self._grant_answer(refresh_token, include_refresh=False)

    def _grant_answer(self, refresh_token: str, include_refresh: bool) -> web.Response:
        body: dict[str, object] = {
            "access_token": self.issue_access_token(refresh_token),
            "scope": " ".join(self._refresh[refresh_token].scopes),
            "api_domain": self.api_domain, "token_type": "Bearer",
            "expires_in": self.token_ttl}
        if include_refresh:
            body["refresh_token"] = refresh_token
        if not self.api_domain:
            del body["api_domain"]
        return web.json_response(body)

    async def _revoke_endpoint(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        if not self.revoke(params.get("token", "")):
            return web.json_response({"status": "failure", "error": "invalid_token"},
                                     status=400)
        return web.json_response({"status": "success"})

    async def _authorize(self, request: web.Request) -> web.Response:
        """Consent is granted at once; the browser is sent back with a fresh code."""
        query = request.query
        client_id = query.get("client_id", "")
        if client_id not in self.clients or not query.get("redirect_uri"):
            return web.Response(status=400, text="Invalid client or redirect_uri")
        scopes = [s for s in query.get("scope", "").split(",") if s] or None
        code = self.issue_grant_code(scopes, query["redirect_uri"], client_id)
        back = {"code": code, "location": "us",
                "accounts-server": f"{request.scheme}://{request.host}"}
        if "state" in query:
            back["state"] = query["state"]
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(back)}")

    async def _server_info(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response({"result": "success", "locations": {"us": base}})
