"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bridge.http.keys import RUNTIME


async def healthz(request: web.Request) -> web.Response:
    """The process and its event loop are alive; failed SCIs are listed, not fatal."""
    supervisor = request.app[RUNTIME].supervisor
    failed = {a.id: a.last_error for a in supervisor.snapshot() if a.state == "failed"}
    return web.json_response({"status": "ok", "failed_scis": failed})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    problems = await runtime.readiness_problems()
    body = {
        "ready": not problems,
        "problems": problems,
        "actors": msgspec.to_builtins(runtime.supervisor.snapshot()),
    }
    return web.json_response(body, status=200 if not problems else 503)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    return response
