"""The operator CLI's client for the running daemon's JSON admin API.

Only the daemon runs the SCI actors, so commands that need them (sync now, backfill) ask
it over HTTP with the admin token from ``BRIDGE_API_TOKEN`` (never the command line, where
``ps`` would show it). Every failure is one ``CommandError`` line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from bridge import config as config_module

TOKEN_VARIABLE = "BRIDGE_API_TOKEN"
API_TIMEOUT = 10.0  # seconds for the daemon to answer one request


class CommandError(Exception):
    """Printed as ``bridge: <message>`` with exit status 1."""


def api_token() -> str:
    """The admin token from the environment; never shown."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise CommandError(f"set {TOKEN_VARIABLE} to an admin API token "
                           "(bridge token create --role admin)")
    if not token.isprintable() or not token.isascii() or " " in token:
        raise CommandError(f"{TOKEN_VARIABLE} does not hold an API token "
                           "(bridge token create --role admin prints one)")
    return token


def daemon_url(config_path: Path, url: str | None) -> str:
    """``url``, or where the daemon of this config listens as reached from this machine."""
    if url is None:
        http = config_module.load(config_path).http
        if http.port == 0:
            raise CommandError(f"{config_path} listens on a random port (port = 0); "
                               "pass --url")
        host = "127.0.0.1" if http.host in ("", "0.0.0.0", "::", "[::]") else http.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        url = f"http://{host}:{http.port}"
    if not url.startswith(("http://", "https://")):
        raise CommandError(f"--url must be the daemon's http:// or https:// address, "
                           f"not {url!r}")
    return url.rstrip("/")


class DaemonApi:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def call(self, method: str, path: str) -> Any:
        """The JSON answer of ``method path``; a refusal or an unreachable daemon raises."""
        timeout = aiohttp.ClientTimeout(total=API_TIMEOUT)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.request(method, self.base + path, headers=self._headers) as answer:
                body = await answer.read()
                status, content_type = answer.status, answer.content_type
        except TimeoutError:
            raise CommandError(f"cannot reach the daemon at {self.base}: no answer within "
                               f"{API_TIMEOUT:.0f} s") from None
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a malformed --url
            raise CommandError(f"cannot reach the daemon at {self.base}: {exc}") from None
        return self._checked(status, _json(body) if content_type.endswith("json") else None)

    def _checked(self, status: int, answer: Any) -> Any:
        problem = answer if isinstance(answer, dict) else {}
        if status in (401, 403):
            why = ("unknown, revoked or malformed token" if status == 401
                   else _problem_text(problem) or "not allowed")
            raise CommandError(f"the daemon refused the token (HTTP {status}: {why}); "
                               f"{TOKEN_VARIABLE} must hold an admin token "
                               "(bridge token create --role admin)")
        if answer is None:
            raise CommandError(f"the daemon at {self.base} answered HTTP {status} without "
                               "JSON; is --url the bridge daemon?")
        if status >= 400:
            raise CommandError(f"{_problem_text(problem) or 'the request failed'} "
                               f"(HTTP {status})")
        return answer


def _json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None


def _problem_text(problem: dict[str, Any]) -> str:
    return str(problem.get("detail") or problem.get("title") or "")
