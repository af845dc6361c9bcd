"""Dynamic webhooks (``/rest/api/3/webhook``): for OAuth 2.0 and Connect apps only.

Registrations expire after 30 days unless refreshed, carry a JQL filter, are unsigned,
and cannot subscribe to attachment events — as on Jira Cloud.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.jql import JqlError, parse

APP_CALLER = web.RequestKey("app_caller", bool)
DYNAMIC_EVENTS = frozenset({
    "jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created",
    "comment_updated", "comment_deleted", "issue_property_set", "issue_property_deleted"})
LIFETIME_MS = 30 * 24 * 3600 * 1000
ONLY_APPS = "Only Connect and OAuth 2.0 apps can use this operation."


class DynamicWebhookRoutes:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.expiry: dict[int, int] = {}

    def add_to(self, router: web.UrlDispatcher) -> None:
        path = "/rest/api/{v:[23]}/webhook"
        router.add_post(path, self.register)
        router.add_get(path, self.list)
        router.add_delete(path, self.delete)
        router.add_put(f"{path}/refresh", self.refresh)

    @staticmethod
    def _require_app(request: web.Request) -> None:
        if not request.get(APP_CALLER):
            raise JiraHttpError(403, (ONLY_APPS,))

    async def register(self, request: web.Request) -> web.Response:
        self._require_app(request)
        body = await json_body(request) or {}
        if not body.get("url") or not isinstance(body.get("webhooks"), list):
            raise JiraHttpError(400, errors={"url": "url and webhooks are required."})
        results: list[dict[str, Any]] = []
        for item in body["webhooks"]:
            problem = _problem(item)
            if problem:
                results.append({"errors": [problem]})
                continue
            hook = self.ctx.deliveries.add_hook(
                name=f"dynamic-{len(self.expiry) + 1}", url=body["url"],
                events=list(item["events"]), jql=item["jqlFilter"], secret=None)
            self.expiry[hook.id] = _now_ms() + LIFETIME_MS
            results.append({"createdWebhookId": hook.id})
        return reply({"webhookRegistrationResult": results})

    async def list(self, request: web.Request) -> web.Response:
        self._require_app(request)
        hooks = [self.ctx.deliveries.hooks[i] for i in self.expiry
                 if i in self.ctx.deliveries.hooks]
        values = [{"id": h.id, "events": h.events, "jqlFilter": h.jql, "url": h.url,
                   "expirationDate": self.expiry[h.id]} for h in hooks]
        return reply({"startAt": 0, "maxResults": 100, "total": len(values), "isLast": True,
                      "values": values})

    async def delete(self, request: web.Request) -> web.Response:
        self._require_app(request)
        ids = (await json_body(request) or {}).get("webhookIds")
        if not isinstance(ids, list):
            raise JiraHttpError(400, ("webhookIds must be provided.",))
        for hook_id in ids:
            if self.expiry.pop(int(hook_id), None) is not None:
                self.ctx.deliveries.hooks.pop(int(hook_id), None)
        return web.Response(status=202)

    async def refresh(self, request: web.Request) -> web.Response:
        self._require_app(request)
        ids = (await json_body(request) or {}).get("webhookIds") or []
        expiration = _now_ms() + LIFETIME_MS
        for hook_id in ids:
            if int(hook_id) in self.expiry:
                self.expiry[int(hook_id)] = expiration
        return reply({"expirationDate": expiration})


def _problem(item: Any) -> str:
    if not isinstance(item, dict) or not item.get("events"):
        return "At least one event is required."
    unsupported = [e for e in item["events"] if e not in DYNAMIC_EVENTS]
    if unsupported:
        return f"The event {unsupported[0]} is not supported."
    if not item.get("jqlFilter"):
        return "The jqlFilter is required."
    try:
        parse(item["jqlFilter"])
    except JqlError as exc:
        return str(exc)
    return ""


def _now_ms() -> int:
    return int(time.time() * 1000)
