"""Dynamic webhooks (``/rest/api/3/webhook``): for OAuth 2.0 and Connect apps only.

Registrations expire after 30 days unless refreshed (then they neither deliver nor list),
carry a JQL filter, are unsigned, and cannot subscribe to attachment events — as on Jira
Cloud. Expiry follows the simulator clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.delivery import Hook
from adapters.jira.simulator.jql import JqlError, parse

APP_CALLER = web.RequestKey("app_caller", bool)
DYNAMIC_EVENTS = frozenset({
    "jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created",
    "comment_updated", "comment_deleted", "issue_property_set", "issue_property_deleted"})
LIFETIME = timedelta(days=30)
ONLY_APPS = "Only Connect and OAuth 2.0 apps can use this operation."


class DynamicWebhookRoutes:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def _live(self) -> list[Hook]:
        """The caller's unexpired dynamic webhooks; expired ones are forgotten."""
        now = self.ctx.state.now()
        hooks = self.ctx.deliveries.hooks
        for hook in [h for h in hooks.values() if h.dynamic and not h.live(now)]:
            del hooks[hook.id]
        return [h for h in hooks.values() if h.dynamic]

    def _expiry(self) -> datetime:
        return self.ctx.state.now() + LIFETIME

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
                name=f"dynamic-{len(self._live()) + 1}", url=body["url"],
                events=list(item["events"]), jql=item["jqlFilter"], secret=None,
                expires_at=self._expiry())
            results.append({"createdWebhookId": hook.id})
        return reply({"webhookRegistrationResult": results})

    async def list(self, request: web.Request) -> web.Response:
        self._require_app(request)
        values = [{"id": h.id, "events": h.events, "jqlFilter": h.jql, "url": h.url,
                   "expirationDate": _epoch_ms(h.expires_at)} for h in self._live()]
        return reply({"startAt": 0, "maxResults": 100, "total": len(values), "isLast": True,
                      "values": values})

    async def delete(self, request: web.Request) -> web.Response:
        self._require_app(request)
        ids = (await json_body(request) or {}).get("webhookIds")
        if not isinstance(ids, list):
            raise JiraHttpError(400, ("webhookIds must be provided.",))
        live = {h.id for h in self._live()}
        for hook_id in ids:
            if int(hook_id) in live:
                del self.ctx.deliveries.hooks[int(hook_id)]
        return web.Response(status=202)

    async def refresh(self, request: web.Request) -> web.Response:
        self._require_app(request)
        ids = (await json_body(request) or {}).get("webhookIds") or []
        expiration = self._expiry()
        wanted = {int(i) for i in ids}
        for hook in self._live():
            if hook.id in wanted:
                hook.expires_at = expiration
        return reply({"expirationDate": _epoch_ms(expiration)})


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


def _epoch_ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None
