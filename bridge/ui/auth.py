"""Who is asking: API bearer tokens, a trusted reverse proxy's header, or a signed-in session.

``access`` runs on every request. Only the public paths (health, metrics, webhooks, the
sign-in form and its stylesheet) answer without an identity; admin paths need the admin
role; every state-changing request authenticated by a cookie (session or proxy) must carry
the session's CSRF token.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import get_session
from yarl import URL

from bridge.admin import tokens
from bridge.admin.viewer import VIEWER
from bridge.config import UiConfig
from bridge.http.keys import RUNTIME

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Via = Literal["session", "token", "proxy"]

PUBLIC_EXACT = frozenset({"/healthz", "/readyz", "/metrics", "/login"})
PUBLIC_PREFIXES = ("/webhooks/", "/static/")
# Reachable by any signed-in role; everything else under these prefixes is admin only.
ADMIN_PREFIXES = ("/admin", "/api/v1/")
ANY_ROLE = frozenset({"/api/v1/me", "/api/v1/openapi.json"})
# The issue panel's API (users link and unlink records; the panel page is outside /admin).
ANY_ROLE_PREFIXES = ("/api/v1/panel/", "/api/v1/issues/", "/api/v1/links")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class Identity(msgspec.Struct, frozen=True):
    name: str
    role: str
    via: Via


IDENTITY = web.RequestKey("identity", Identity)


def local_target(target: str) -> str:
    """Where to go after sign-in: a path on this site only (no open redirects)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def needs_admin(path: str) -> bool:
    return (path.startswith(ADMIN_PREFIXES) and path not in ANY_ROLE
            and not path.startswith(ANY_ROLE_PREFIXES))


# -- sessions and CSRF --------------------------------------------------------------------
async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token (created with the session, rotated at sign-in)."""
    session = await get_session(request)
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


async def sign_in(request: web.Request, name: str) -> None:
    """A fresh session (no fixation) with a fresh CSRF token."""
    session = await get_session(request)
    session.invalidate()
    session = await get_session(request)
    session["user"] = name
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


async def sign_out(request: web.Request) -> None:
    (await get_session(request)).invalidate()


async def csrf_ok(request: web.Request) -> bool:
    """The request carries this session's CSRF token (form field or header)."""
    expected = (await get_session(request)).get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        field = (await request.post()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    return isinstance(expected, str) and sent is not None and secrets.compare_digest(
        expected, sent
    )


# -- identity -----------------------------------------------------------------------------
def _role_of(ui: UiConfig, name: str) -> str | None:
    return next((user.role for user in ui.user if user.name == name), None)


def _from_proxy(request: web.Request, ui: UiConfig) -> Identity | None:
    if not ui.trusted_proxy_header or request.remote is None:
        return None
    name = request.headers.get(ui.trusted_proxy_header, "").strip()
    if not name:
        return None
    try:
        address = ipaddress.ip_address(request.remote)
    except ValueError:
        return None
    if not any(address in ipaddress.ip_network(p, strict=False) for p in ui.trusted_proxies):
        return None
    return Identity(name, _role_of(ui, name) or "user", "proxy")


async def identify(request: web.Request) -> Identity | None:
    runtime = request.app[RUNTIME]
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        found = await tokens.authenticate(runtime.store, header.removeprefix("Bearer ").strip())
        return Identity(f"token:{found.id}", found.role, "token") if found else None
    proxied = _from_proxy(request, runtime.config.ui)
    if proxied is not None:
        return proxied
    name = (await get_session(request)).get("user")
    role = _role_of(runtime.config.ui, name) if isinstance(name, str) else None
    # A user removed from the config (and reloaded) is signed out at once.
    return Identity(name, role, "session") if role and isinstance(name, str) else None


# -- the gate -------------------------------------------------------------------------------
Refusal = Callable[[web.Request, int, str, str], Awaitable[web.StreamResponse]]


def access_middleware(refuse_api: Refusal, refuse_page: Refusal) -> Middleware:
    """Build the gate; refusals are rendered by the API (problem+json) or the pages (HTML)."""

    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        refuse = refuse_api if is_api(path) else refuse_page
        if is_public(path):
            return await handler(request)
        identity = await identify(request)
        if identity is None:
            if not is_api(path):
                raise web.HTTPSeeOther(URL("/login").with_query(next=request.rel_url.path_qs))
            return await refuse(request, 401, "Authentication required",
                                "send 'Authorization: Bearer <token>' or sign in")
        if needs_admin(path) and identity.role != "admin":
            return await refuse(request, 403, "Admins only",
                                f"{identity.name} has the {identity.role} role; this needs admin")
        if (request.method in UNSAFE_METHODS and identity.via != "token"
                and not await csrf_ok(request)):
            return await refuse(request, 403, "Form expired",
                                "the request did not carry this session's CSRF token; "
                                "reload the page and try again")
        request[IDENTITY] = identity
        VIEWER.set(identity.name)
        return await handler(request)

    return access


# -- sign-in rate limiting --------------------------------------------------------------------
class LoginLimiter:
    """At most ``attempts`` failed sign-ins per client address (and per user name) in a
    sliding ``window`` of seconds. Keys without recent failures are forgotten."""

    def __init__(self, attempts: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def wait_seconds(self, *keys: str) -> float:
        """0 when a sign-in may be tried now, else how long until one may."""
        now = self._clock()
        waits = [0.0]
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.attempts:
                waits.append(failures[0] + self.window - now)
        return max(waits)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures
