"""What every Zoho API simulator shares.

* ``auth_failure``: the ``Authorization: Zoho-oauthtoken …`` check against the accounts
  simulator, including scope prefixes (``ZohoCRM.``, ``ZohoProjects.``).
* ``read_json``: request bodies parsed whatever the Content-Type (the official SDKs send none).
* ``IdSequence``: deterministic 19-digit string ids, as Zoho hands out.
* ``zoho_time``: Zoho's ISO-8601 timestamps in the org's offset, no fraction;
  ``parse_offset`` reads a configured offset such as ``-07:00``.
* ``RequestLimits``: API credits and in-flight concurrency answered with 429 + Retry-After,
  adjustable at run time with ``POST /_sim/limits``.
* ``Notifier``: POSTs change events to registered URLs from a background task that the
  app owns (started and stopped with it); ``await notifier.settled()`` waits for delivery.
* Fault injection (``Faults``, ``faults_middleware``, ``add_fault_routes``) is the one
  shared by all simulators, re-exported here for convenience.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from adapters.simulation import (
    CONTROL_PREFIX,
    Faults,
    Handler,
    add_fault_routes,
    faults_middleware,
)
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator

__all__ = [
    "CONTROL_PREFIX", "Faults", "Handler", "IdSequence", "Notifier", "RequestLimits",
    "access_token", "add_fault_routes", "add_limit_routes", "auth_failure",
    "faults_middleware", "parse_offset", "read_json", "zoho_time",
]

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


def access_token(request: web.Request) -> str:
    """The token of an ``Authorization: Zoho-oauthtoken <token>`` header, or ``""``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme == "Zoho-oauthtoken" else ""


def auth_failure(accounts: ZohoAccountsSimulator, request: web.Request,
                 scope_prefix: str = "") -> str | None:
    """Zoho's error code for a request that may not pass, or None when it may.

    ``INVALID_TOKEN`` for a missing, unknown, expired or revoked token;
    ``OAUTH_SCOPE_MISMATCH`` when no granted scope starts with ``scope_prefix``.
    """
    token = access_token(request)
    if not token or not accounts.is_valid_access_token(token):
        return "INVALID_TOKEN"
    if scope_prefix and not any(s.startswith(scope_prefix) for s in accounts.scopes_for(token)):
        return "OAUTH_SCOPE_MISMATCH"
    return None


async def read_json(request: web.Request) -> Any:
    """The decoded body (None when empty). Raises ``msgspec.DecodeError`` on bad JSON."""
    raw = await request.read()
    return msgspec.json.decode(raw) if raw.strip() else None


class IdSequence:
    """``prefix`` followed by a counter, padded to 19 digits: same order, same ids."""

    def __init__(self, prefix: str = "5551") -> None:
        if not prefix.isdigit() or len(prefix) > 12:
            raise ValueError("prefix must be at most 12 digits")
        self._prefix = prefix
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):0{19 - len(self._prefix)}d}"


def zoho_time(moment: float | None = None, zone: tzinfo = UTC) -> str:
    """E.g. ``2026-01-05T03:00:00-07:00``: seconds, in the org's offset."""
    stamp = time.time() if moment is None else moment
    return datetime.fromtimestamp(stamp, zone).replace(microsecond=0).isoformat()


def parse_offset(text: str) -> timezone:
    """``-07:00`` / ``+05:30`` / ``Z`` → a fixed offset; ValueError otherwise."""
    if text in ("Z", "UTC", "+00:00"):
        return UTC
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise ValueError(f"time zone must look like -07:00, not {text!r}")
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


@dataclass
class RequestLimits:
    """API credits left and requests allowed in flight at once."""

    credits: int = 50_000
    concurrency: int = 10
    retry_after: int = 1
    active: int = 0
    refused: int = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[bool]:
        """Yields False (and counts a refusal) when the request must get a 429."""
        if self.credits <= 0 or self.active >= self.concurrency:
            self.refused += 1
            yield False
            return
        self.credits -= 1
        self.active += 1
        try:
            yield True
        finally:
            self.active -= 1

    def public(self) -> dict[str, int]:
        return {"credits": self.credits, "concurrency": self.concurrency,
                "retry_after": self.retry_after, "active": self.active,
                "refused": self.refused}

    def update(self, changes: dict[str, Any]) -> None:
        for name in ("credits", "concurrency", "retry_after"):
            if name in changes:
                setattr(self, name, int(changes[name]))
        unknown = set(changes) - {"credits", "concurrency", "retry_after"}
        if unknown:
            raise ValueError(f"unknown limit knob(s): {', '.join(sorted(unknown))}")


def add_limit_routes(app: web.Application, limits: RequestLimits) -> None:
    """``GET``/``POST /_sim/limits``: show or change credits, concurrency, Retry-After."""

    async def show(request: web.Request) -> web.Response:
        return web.json_response(limits.public())

    async def change(request: web.Request) -> web.Response:
        try:
            limits.update(await read_json(request) or {})
        except (ValueError, TypeError, msgspec.DecodeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(limits.public())

    app.router.add_get("/_sim/limits", show)
    app.router.add_post("/_sim/limits", change)


@dataclass
class Delivery:
    url: str
    body: dict[str, Any]
    status: int | None = None  # None: the receiver could not be reached


@dataclass
class Notifier:
    """Delivers ``(url, body)`` POSTs in order, one at a time, from the app's own task."""

    timeout: float = 10.0
    delivered: list[Delivery] = field(default_factory=list)
    _queue: asyncio.Queue[Delivery] = field(default_factory=asyncio.Queue)

    def send(self, url: str, body: dict[str, Any]) -> None:
        self._queue.put_nowait(Delivery(url, body))

    async def settled(self) -> None:
        """Return once everything sent so far has been delivered (or failed)."""
        await self._queue.join()

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Append to ``app.cleanup_ctx``: runs the delivery loop for the app's lifetime."""
        task = asyncio.get_running_loop().create_task(self._run(), name="zoho-sim-notifier")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                delivery = await self._queue.get()
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.post(delivery.url, json=delivery.body) as response:
                        delivery.status = response.status
                self.delivered.append(delivery)
                self._queue.task_done()
