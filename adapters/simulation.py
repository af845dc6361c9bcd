"""Fault injection shared by every simulator: latency, error rate, 5xx bursts, timeouts,
dropped connections.

Knobs are set at start (``Faults(...)``) or at run time with ``POST /_sim/faults`` and a
JSON body of the fields to change; ``GET /_sim/faults`` shows them. ``/_sim`` paths are
never faulted, so a test can always turn faults off again.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields

import anyio
from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/_sim/"


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every answer
    error_rate: float = 0.0  # share of requests answered 500 (seeded, reproducible)
    burst_5xx: int = 0  # the next N requests get 503
    timeouts: int = 0  # the next N requests hang for `hang_seconds`, then 504
    hang_seconds: float = 30.0
    drops: int = 0  # the next N requests lose their connection before any answer
    seed: int = 7
    _random: random.Random = field(default_factory=lambda: random.Random(7), repr=False)

    def update(self, changes: dict[str, object]) -> None:
        allowed = {f.name: f.type for f in fields(self) if not f.name.startswith("_")}
        for name, value in changes.items():
            if name not in allowed:
                raise ValueError(f"unknown fault knob {name!r}; known: {', '.join(allowed)}")
            setattr(self, name, type(getattr(self, name))(value))  # type: ignore[call-arg]
        if "seed" in changes:
            self._random = random.Random(self.seed)

    def public(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    async def apply(self, request: web.Request) -> web.Response | None:
        """The faulty answer for this request, or None to serve it normally."""
        if self.latency:
            await anyio.sleep(self.latency)
        if self.drops > 0 and request.transport is not None:
            self.drops -= 1
            request.transport.abort()  # the client sees the connection reset, no answer
            return web.Response(status=500)  # never reaches the client
        if self.timeouts > 0:
            self.timeouts -= 1
            await anyio.sleep(self.hang_seconds)
            return web.json_response({"error": "gateway timeout"}, status=504)
        if self.burst_5xx > 0:
            self.burst_5xx -= 1
            return web.json_response({"error": "service unavailable"}, status=503)
        if self.error_rate and self._random.random() < self.error_rate:
            return web.json_response({"error": "internal server error"}, status=500)
        return None


def faults_middleware(faults: Faults) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(CONTROL_PREFIX):
            faulty = await faults.apply(request)
            if faulty is not None:
                return faulty
        return await handler(request)

    return middleware


def add_fault_routes(app: web.Application, faults: Faults) -> None:
    async def show(request: web.Request) -> web.Response:
        return web.json_response(faults.public())

    async def change(request: web.Request) -> web.Response:
        try:
            faults.update(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(faults.public())

    app.router.add_get("/_sim/faults", show)
    app.router.add_post("/_sim/faults", change)
