"""``/_sim/...``: inspect the simulator and turn its switches at run time.

``/_sim/rate-limit`` and ``/_sim/webhooks`` tune limits and delivery quirks;
``/_sim/search`` sets ``index_delay`` (seconds before a change is searchable);
``/_sim/users`` sets a user's ``timeZone`` and ``emailVisible``; ``/_sim/clock``
moves the clock forward (``{"advance": seconds}``) to reach expiries without waiting.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.state import User


class SimRoutes:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/_sim/state", self.state)
        router.add_post("/_sim/rate-limit", self.rate_limit)
        router.add_post("/_sim/webhooks", self.webhooks)
        router.add_post("/_sim/search", self.search)
        router.add_get("/_sim/users", self.users)
        router.add_post("/_sim/users", self.change_user)
        router.add_post("/_sim/clock", self.clock)

    async def state(self, request: web.Request) -> web.Response:
        state = self.ctx.state
        return reply({
            "issues": [{"id": i.id, "key": i.key, "status": i.status.name,
                        "summary": i.fields.get("summary"), "comments": len(i.comments),
                        "attachments": len(i.attachments)} for i in state.issues.values()],
            "webhooks": len(self.ctx.deliveries.hooks),
            "deliveries": [asdict(a) for a in self.ctx.deliveries.attempts[-200:]],
            "pending_deliveries": self.ctx.deliveries.pending,
        })

    async def rate_limit(self, request: web.Request) -> web.Response:
        return reply(_update(self.ctx.limits, await json_body(request),
                             ("rate", "burst", "issue_writes", "issue_window", "retry_after")))

    async def webhooks(self, request: web.Request) -> web.Response:
        return reply(_update(self.ctx.deliveries, await json_body(request),
                             ("duplicate", "reorder", "retries", "retry_base",
                              "comment_updates_issue")))

    async def search(self, request: web.Request) -> web.Response:
        changed = _update(self.ctx.state, await json_body(request), ("index_delay",))
        if self.ctx.state.index_delay <= 0:
            for issue in self.ctx.state.issues.values():
                self.ctx.state.reindex(issue)  # switching off makes everything visible
        return reply(changed)

    async def users(self, request: web.Request) -> web.Response:
        return reply([_user_json(u) for u in self.ctx.state.users])

    async def change_user(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict) or set(body) - {"accountId", "timeZone", "emailVisible"}:
            raise JiraHttpError(400, ("Known settings: accountId, timeZone, emailVisible",))
        user = self.ctx.state.user(str(body.get("accountId")))
        if user is None:
            raise JiraHttpError(404, ("No simulated user with that accountId.",))
        if "timeZone" in body:
            try:
                ZoneInfo(str(body["timeZone"]))
            except (ZoneInfoNotFoundError, ValueError):
                raise JiraHttpError(400, (f"Unknown time zone {body['timeZone']!r}.",)) from None
            user.time_zone = str(body["timeZone"])
        if "emailVisible" in body:
            user.email_visible = bool(body["emailVisible"])
        return reply(_user_json(user))

    async def clock(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            self.ctx.state.clock.advance(float((body or {}).get("advance", 0)))
        except (TypeError, ValueError) as exc:
            raise JiraHttpError(400, (f"advance: {exc}",)) from None
        return reply({"now": self.ctx.state.now().isoformat()})


def _user_json(user: User) -> dict[str, Any]:
    return {"accountId": user.account_id, "displayName": user.name, "email": user.email,
            "timeZone": user.time_zone, "emailVisible": user.email_visible}


def _update(target: Any, changes: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(changes, dict) or set(changes) - set(allowed):
        raise JiraHttpError(400, (f"Known settings: {', '.join(allowed)}",))
    for name, value in changes.items():
        setattr(target, name, type(getattr(target, name))(value))
    return {name: getattr(target, name) for name in allowed}
