"""Notification channels (``/actions/watch``) and the change events POSTed to them.

Expiry follows Zoho: at most one week ahead; missing or further → one hour from now.
Callbacks carry ``operation`` insert/update/delete, the channel ``token``, and the
``notify_url``'s own query parameters as ``query_params``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from aiohttp import web

from adapters.zoho.simulator.common import Notifier, read_json, zoho_time
from adapters.zoho.simulator.crm.records import API
from adapters.zoho.simulator.crm.replies import CrmError, listing, missing_param, success

MAX_TOKEN = 50
_EVENT_VERB = {"insert": "create", "update": "edit", "delete": "delete"}


@dataclass
class Channel:
    channel_id: str
    events: list[str]
    notify_url: str
    token: str
    expiry: str

    def wants(self, module: str, operation: str) -> bool:
        return bool({f"{module}.{_EVENT_VERB[operation]}", f"{module}.all"} & set(self.events))

    def public(self) -> dict[str, Any]:
        return {"channel_id": self.channel_id, "events": self.events,
                "notify_url": self.notify_url, "channel_expiry": self.expiry}


def _expiry(requested: str | None) -> str:
    now = datetime.now(UTC)
    if requested:
        try:
            moment = datetime.fromisoformat(requested)
        except ValueError:
            raise CrmError(400, "INVALID_DATA", "invalid data",
                           {"api_name": "channel_expiry"}) from None
        if now < moment <= now + timedelta(weeks=1):
            return moment.replace(microsecond=0).isoformat()
    return zoho_time(time.time() + 3600)


class WatchApi:
    def __init__(self, notifier: Notifier) -> None:
        self.channels: dict[str, Channel] = {}
        self.notifier = notifier

    def routes(self, router: web.UrlDispatcher) -> None:
        path = f"{API}/actions/watch"
        router.add_post(path, self.enable)
        router.add_put(path, self.enable)
        router.add_patch(path, self.enable)
        router.add_get(path, self.list_channels)
        router.add_delete(path, self.disable)

    async def enable(self, request: web.Request) -> web.Response:
        """POST subscribes, PUT replaces, PATCH changes given details or drops events."""
        try:
            body = await read_json(request)
        except msgspec.DecodeError:
            raise CrmError(400, "INVALID_DATA", "body is not valid JSON") from None
        items = body.get("watch") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                           {"api_name": "watch"})
        base = f"{request.scheme}://{request.host}{API}"
        return web.json_response({"watch": [self._enable_one(item, request.method, base)
                                            for item in items]})

    def _enable_one(self, item: dict[str, Any], method: str, base: str) -> dict[str, Any]:
        required = ("channel_id",) if method == "PATCH" else ("channel_id", "events",
                                                               "notify_url")
        missing = next((k for k in required if not item.get(k)), None)
        if missing:
            raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                           {"api_name": missing})
        if len(str(item.get("token", ""))) > MAX_TOKEN:
            raise CrmError(400, "INVALID_DATA", "token exceeds 50 characters",
                           {"api_name": "token"})
        channel_id = str(item["channel_id"])
        previous = self.channels.get(channel_id)
        if method == "PATCH" and previous is None:
            raise CrmError(400, "INVALID_DATA", "invalid data", {"api_name": "channel_id"})
        channel = self._merged(channel_id, item, previous if method == "PATCH" else None)
        if channel.events:
            self.channels[channel_id] = channel
        else:
            self.channels.pop(channel_id, None)
        return success("Successfully subscribed for actions-watch of the given module", {
            "events": [{"channel_expiry": channel.expiry, "resource_name": e.split(".")[0],
                        "channel_id": channel_id, "resource_uri": f"{base}/{e.split('.')[0]}"}
                       for e in item.get("events") or channel.events]})

    @staticmethod
    def _merged(channel_id: str, item: dict[str, Any], previous: Channel | None) -> Channel:
        events = list(item.get("events") or (previous.events if previous else []))
        if item.get("_delete_events"):
            dropped = set(item.get("events") or events)
            events = [e for e in (previous.events if previous else []) if e not in dropped]
        return Channel(channel_id, events,
                       item.get("notify_url") or (previous.notify_url if previous else ""),
                       str(item.get("token", previous.token if previous else "")),
                       _expiry(item.get("channel_expiry")))

    async def list_channels(self, request: web.Request) -> web.Response:
        wanted = request.query.get("channel_id")
        return listing([c.public() for c in self.channels.values()
                        if wanted in (None, c.channel_id)], key="watch")

    async def disable(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("channel_ids", "").split(",") if i]
        if not ids:
            raise missing_param("channel_ids")
        for channel_id in ids:
            self.channels.pop(channel_id, None)
        return web.json_response({"watch": [success("Successfully unsubscribed",
                                                    {"channel_id": c}) for c in ids]})

    def record_changed(self, module: str, operation: str, record_id: str) -> None:
        """A store listener: queue one callback per interested, unexpired channel."""
        now = datetime.now(UTC)
        for channel in self.channels.values():
            if channel.wants(module, operation) and \
                    datetime.fromisoformat(channel.expiry) > now:
                self.notifier.send(channel.notify_url, {
                    "server_time": int(time.time() * 1000),
                    "query_params": dict(parse_qsl(urlsplit(channel.notify_url).query)),
                    "module": module, "resource_uri": f"{API}/{module}", "ids": [record_id],
                    "affected_fields": [], "operation": operation,
                    "channel_id": channel.channel_id, "token": channel.token})
