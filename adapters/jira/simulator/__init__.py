"""A faithful Jira Cloud simulator (REST v2 + v3 over one state, admin webhooks, limits)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from adapters.jira.simulator.clock import SimClock
from adapters.jira.simulator.context import JiraHttpError, Limits, SimContext
from adapters.jira.simulator.delivery import Deliveries
from adapters.jira.simulator.routes_content import ContentRoutes
from adapters.jira.simulator.routes_dynamic import APP_CALLER, DynamicWebhookRoutes
from adapters.jira.simulator.routes_issues import IssueRoutes
from adapters.jira.simulator.routes_meta import MetaRoutes
from adapters.jira.simulator.routes_sim import SimRoutes
from adapters.jira.simulator.state import DEFAULT_TIME_ZONE, JiraState
from adapters.simulation import CONTROL_PREFIX, Faults, Handler, add_fault_routes, faults_middleware

UNAUTHENTICATED_PATHS = ("/media/",)


class JiraSimulator:
    """``time_zone``: the simulated accounts' profile zone; ``index_delay``: seconds before
    a change is visible to search (0 = at once); ``clock``: what "now" is."""

    def __init__(
        self,
        *,
        email: str = "bridge@example.com",
        api_token: str = "sim-jira-api-token",
        oauth_token: str = "sim-jira-oauth-token",
        webhook_secret: str = "sim-jira-webhook-secret",
        seed: bool = True,
        limits: Limits | None = None,
        faults: Faults | None = None,
        webhook_retry_base: float = 0.5,
        time_zone: str = DEFAULT_TIME_ZONE,
        index_delay: float = 0.0,
        clock: SimClock | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.oauth_token = oauth_token
        self.faults = faults or Faults()
        self.clock = clock or SimClock()
        self.deliveries = Deliveries(retry_base=webhook_retry_base, clock=self.clock)
        state = JiraState(seed=seed, clock=self.clock, time_zone=time_zone,
                          index_delay=index_delay)
        self.ctx = SimContext(state, self.deliveries, limits or Limits(), email, api_token)

    @property
    def state(self) -> JiraState:
        return self.ctx.state

    def app(self) -> web.Application:
        app = web.Application(middlewares=[
            faults_middleware(self.faults), self._errors, self._authenticate, self._rate_limit])
        for routes in (IssueRoutes(self.ctx), ContentRoutes(self.ctx), MetaRoutes(self.ctx),
                       DynamicWebhookRoutes(self.ctx), SimRoutes(self.ctx)):
            routes.add_to(app.router)
        add_fault_routes(app, self.faults)
        app.cleanup_ctx.append(self._run_deliveries)
        return app

    def sandbox_info(self, base_url: str) -> dict[str, Any]:
        return {"jira": {"base_url": base_url, "email": self.ctx.email,
                         "api_token": self.ctx.api_token, "webhook_secret": self.webhook_secret,
                         "oauth_token": self.oauth_token}}

    async def _run_deliveries(self, app: web.Application) -> AsyncIterator[None]:
        # aiohttp may run startup and cleanup in different tasks, so the app owns a plain
        # task here (aiohttp's documented background-task pattern), cancelled on cleanup.
        task = asyncio.create_task(self.deliveries.run(), name="jira-sim-deliveries")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except JiraHttpError as exc:
            return exc.response()

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith((CONTROL_PREFIX, *UNAUTHENTICATED_PATHS)):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        # An OAuth 2.0 bearer token makes the caller an app (may use dynamic webhooks).
        request[APP_CALLER] = header == f"Bearer {self.oauth_token}"
        if not request[APP_CALLER] and not self._credentials_ok(header):
            return web.Response(
                status=401, text="Client must be authenticated to access this resource.",
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})
        return await handler(request)

    def _credentials_ok(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            email, _, token = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (email, token) == (self.ctx.email, self.ctx.api_token)

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        headers = self.ctx.limits.take()
        response = await handler(request)
        response.headers.update(headers)
        return response
