"""The Zoho CRM v8 simulator: one org behind the accounts simulator's tokens, with API
credits and a per-org concurrency limit (429 ``TOO_MANY_REQUESTS`` + Retry-After), the
switches of ``CrmSettings`` (org time zone, search delay, restricted picklists) and fault
injection under ``/_sim``. Sources for each behaviour: ``adapters/zoho/simulator/README.md``."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.common import (
    CONTROL_PREFIX,
    Faults,
    Handler,
    Notifier,
    RequestLimits,
    add_fault_routes,
    add_limit_routes,
    auth_failure,
    faults_middleware,
    read_json,
)
from adapters.zoho.simulator.crm import metadata
from adapters.zoho.simulator.crm.attachments import AttachmentsApi
from adapters.zoho.simulator.crm.notes import NotesApi
from adapters.zoho.simulator.crm.queries import QueriesApi
from adapters.zoho.simulator.crm.records import RecordsApi
from adapters.zoho.simulator.crm.related import RelatedApi
from adapters.zoho.simulator.crm.replies import CrmError
from adapters.zoho.simulator.crm.settings import CrmSettings
from adapters.zoho.simulator.crm.store import CrmStore
from adapters.zoho.simulator.crm.watch import WatchApi

_AUTH_MESSAGES = {"INVALID_TOKEN": "invalid oauth token",
                  "OAUTH_SCOPE_MISMATCH": "invalid oauth scope to access this URL"}


class ZohoCrmSimulator:
    def __init__(self, accounts: ZohoAccountsSimulator, *, seed: bool = True,
                 limits: RequestLimits | None = None, faults: Faults | None = None,
                 settings: CrmSettings | None = None) -> None:
        self.accounts = accounts
        self.settings = settings or CrmSettings()
        self.store = CrmStore(self.settings)
        self.limits = limits or RequestLimits()
        self.faults = faults or Faults()
        self.notifier = Notifier()
        self.watch = WatchApi(self.notifier, self.settings)
        if seed:
            self.store.seed()
        self.store.changes.listeners.append(self.watch.record_changed)

    def sandbox_info(self, base_url: str) -> dict[str, Any]:
        """What a person or script needs to connect: URL, client credentials, a fresh
        grant code and a refresh token."""
        accounts = self.accounts
        return {"zoho": {"crm_api_url": base_url, "client_id": accounts.client_id,
                         "client_secret": accounts.client_secret,
                         "code": accounts.issue_grant_code(),
                         "refresh_token": accounts.issue_refresh_token()}}

    async def settled(self) -> None:
        """Wait until every change event queued so far has been delivered."""
        await self.notifier.settled()

    def app(self) -> web.Application:
        # Injected latency counts as serving time, so it holds a concurrency slot.
        app = web.Application(middlewares=[self._guard, faults_middleware(self.faults)],
                              client_max_size=64 * 1024 * 1024)
        router = app.router
        metadata.routes(router, self.settings)
        self.watch.routes(router)
        QueriesApi(self.store).routes(router)
        NotesApi(self.store).routes(router)
        RecordsApi(self.store).routes(router)
        AttachmentsApi(self.store).routes(router)
        RelatedApi(self.store).routes(router)
        router.add_get("/_sim/state", self._state)
        router.add_get("/_sim/settings", self._show_settings)
        router.add_post("/_sim/settings", self._change_settings)
        add_fault_routes(app, self.faults)
        add_limit_routes(app, self.limits)
        app.cleanup_ctx.append(self.notifier.cleanup_ctx)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Token, then credits and concurrency, then Zoho-shaped errors."""
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        try:
            refused = auth_failure(self.accounts, request, "ZohoCRM.")
            if refused:
                raise CrmError(401, refused, _AUTH_MESSAGES[refused])
            with self.limits.admit() as admitted:
                if not admitted:
                    raise CrmError(429, "TOO_MANY_REQUESTS", "Too many requests",
                                   headers={"Retry-After": str(self.limits.retry_after)})
                return await handler(request)
        except CrmError as exc:
            return exc.response()

    async def _show_settings(self, request: web.Request) -> web.Response:
        return web.json_response(self.settings.public())

    async def _change_settings(self, request: web.Request) -> web.Response:
        try:
            self.settings.update(await read_json(request) or {})
        except (ValueError, TypeError, AttributeError, msgspec.DecodeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.settings.public())

    async def _state(self, request: web.Request) -> web.Response:
        store = self.store
        return web.json_response({
            "records": {m: len(r) for m, r in store.records.items()},
            "notes": len(store.notes), "attachments": len(store.attachments),
            "deleted": {m: len(d) for m, d in store.deleted.items()},
            "watches": len(self.watch.channels), "limits": self.limits.public(),
            "notifications_sent": len(self.notifier.delivered)})
