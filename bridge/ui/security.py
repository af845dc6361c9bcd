"""Response headers every answer carries, and the session cookie's settings."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import structlog
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from bridge.config import Config, reveal
from bridge.ui.auth import Handler

log = structlog.get_logger("bridge.ui")

COOKIE_NAME = "bridge_session"
HEADERS = {
    # No inline script or style anywhere: pages load only their own stylesheet and scripts.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(HEADERS)
        raise
    response.headers.update(HEADERS)
    if request.path.startswith(("/admin", "/api/", "/login")):
        response.headers["Cache-Control"] = "no-store"
    return response


def loopback_only(config: Config) -> bool:
    """Plain http on loopback is the one place a cookie without ``Secure`` is acceptable."""
    host = config.http.host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def session_key(config: Config) -> bytes:
    """The configured key, else one generated once beside the database (sessions then
    survive restarts without any set-up)."""
    if config.ui.session_key:
        return reveal(config.ui.session_key).encode()
    key_file = config.database_path().with_name("session.key")
    if not key_file.exists():
        _create_key_file(key_file)
        log.warning("ui.session_key_generated", path=str(key_file))
    return key_file.read_bytes().strip()


def _create_key_file(key_file: Path) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_bytes(Fernet.generate_key())


def session_storage(config: Config) -> EncryptedCookieStorage:
    secure = config.ui.secure_cookie
    return EncryptedCookieStorage(
        Fernet(session_key(config)), cookie_name=COOKIE_NAME, max_age=config.ui.session_max_age,
        httponly=True, secure=not loopback_only(config) if secure is None else secure,
        samesite="Strict", path="/")
