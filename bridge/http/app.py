"""Application factory: routes, middlewares, typed state."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from bridge.http import health, webhooks
from bridge.http.keys import RUNTIME
from bridge.http.metrics import HTTP_LATENCY, HTTP_REQUESTS
from bridge.runtime import Runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = structlog.get_logger("bridge.http")


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, structured log context and metrics for every request."""
    request_id = request.headers.get("X-Request-Id") or secrets.token_hex(16)
    route = request.match_info.route.resource
    route_name = route.canonical if route is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    # bind/reset rather than bound_contextvars(): same effect at a third of the cost per request
    bound = structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        structlog.contextvars.reset_contextvars(**bound)
        HTTP_REQUESTS.labels(request.method, route_name, str(status)).inc()
        HTTP_LATENCY.labels(route_name).observe(time.perf_counter() - started)


def build_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        middlewares=[observe], client_max_size=runtime.config.http.max_body_bytes
    )
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.router.add_post("/webhooks/jira", webhooks.jira_webhook)
    return app
