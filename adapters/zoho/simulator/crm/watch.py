"""Notification channels (``/actions/watch``) and the callbacks POSTed to them, shaped as
the live service sends them:

* one callback per request and module: a batch insert of three records is one callback
  whose ``ids`` holds three ids;
* ``affected_fields`` is ``[{"<id>": ["Field", …]}]`` for updates (``[]`` otherwise); with
  ``return_affected_field_values`` an ``affected_values`` list of ``{record_id, values}``;
* ``resource_uri`` is absolute; ``token`` is ``null`` when none was set; the
  ``notify_url``'s own query parameters come back as ``query_params``;
* a change to a note or attachment notifies ``Notes.*``/``Attachments.*`` channels, and
  (``notify_on_related_action``, default true) the parent module's channels as an update
  of the parent record;
* ``notification_condition`` field selections limit edit callbacks to those fields.

Expiry follows Zoho: at most one week ahead; missing or further → one hour from now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from aiohttp import web

from adapters.zoho.simulator.common import Notifier, read_json
from adapters.zoho.simulator.crm.changes import Change
from adapters.zoho.simulator.crm.data import CHILD_MODULES, MODULES, module_id
from adapters.zoho.simulator.crm.records import API
from adapters.zoho.simulator.crm.replies import CrmError, listing, missing_param, success
from adapters.zoho.simulator.crm.settings import CrmSettings

MAX_TOKEN = 50
DEFAULT_EXPIRY = timedelta(hours=1)
MAX_EXPIRY = timedelta(weeks=1)
_EVENT_VERB = {"insert": "create", "update": "edit", "delete": "delete"}
_VERBS = ("create", "edit", "delete", "all")


@dataclass
class Channel:
    channel_id: str
    events: list[str]
    notify_url: str
    token: str | None
    expiry: str
    api_base: str  # e.g. http://127.0.0.1:8080/crm/v8, for absolute resource URIs
    return_values: bool = False
    related: bool = True
    watched_fields: dict[str, set[str]] = field(default_factory=dict)  # module → fields
    conditions: list[dict[str, Any]] = field(default_factory=list)

    def wants(self, module: str, operation: str) -> bool:
        return bool({f"{module}.{_EVENT_VERB[operation]}", f"{module}.all"} & set(self.events))

    def cares_about(self, change: Change, record_id: str) -> bool:
        """Field selections: an edit counts only when a watched field changed."""
        watched = self.watched_fields.get(change.module)
        return change.operation != "update" or not watched \
            or bool(watched & set(change.fields.get(record_id, [])))

    def events_detail(self, events: list[str]) -> list[dict[str, Any]]:
        return [{"channel_expiry": self.expiry, "resource_name": e.split(".")[0],
                 "resource_id": module_id(e.split(".")[0]), "channel_id": self.channel_id,
                 "resource_uri": f"{self.api_base}/{e.split('.')[0]}",
                 "notification_condition": self.conditions} for e in events]

    def public(self) -> dict[str, Any]:
        return {"channel_id": self.channel_id, "events": self.events,
                "notify_url": self.notify_url, "token": self.token,
                "channel_expiry": self.expiry, "return_affected_field_values":
                self.return_values, "notify_on_related_action": self.related,
                "notification_condition": self.conditions,
                "resource_uri": f"{self.api_base}/{self.events[0].split('.')[0]}"}


class WatchApi:
    def __init__(self, notifier: Notifier, settings: CrmSettings) -> None:
        self.channels: dict[str, Channel] = {}
        self.notifier = notifier
        self.settings = settings

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
        answers = [self._enable_one(item, request.method, base) for item in items]
        return web.json_response({"watch": answers},
                                 status=201 if request.method == "POST" else 200)

    def _enable_one(self, item: dict[str, Any], method: str, base: str) -> dict[str, Any]:
        required = ("channel_id",) if method == "PATCH" else ("channel_id", "events",
                                                               "notify_url")
        missing = next((k for k in required if not item.get(k)), None)
        if missing:
            raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                           {"api_name": missing})
        token = item.get("token")
        if token is not None and len(str(token)) > MAX_TOKEN:
            raise CrmError(400, "INVALID_DATA", "token exceeds 50 characters",
                           {"api_name": "token"})
        _check_events(item.get("events") or [])
        channel_id = str(item["channel_id"])
        previous = self.channels.get(channel_id)
        if method == "PATCH" and previous is None:
            raise CrmError(400, "INVALID_DATA", "invalid data", {"api_name": "channel_id"})
        channel = self._merged(channel_id, item, previous if method == "PATCH" else None,
                               base)
        if channel.events:
            self.channels[channel_id] = channel
        else:
            self.channels.pop(channel_id, None)
        return success(_MESSAGES[method if not item.get("_delete_events") else "DROP"],
                       {"events": channel.events_detail(item.get("events") or channel.events)})

    def _merged(self, channel_id: str, item: dict[str, Any], previous: Channel | None,
                base: str) -> Channel:
        """The channel an item describes; a PATCH keeps what the item leaves out."""
        def kept(key: str, default: Any) -> Any:
            if key in item:
                return item[key]
            return getattr(previous, _ATTRS[key]) if previous else default

        events = list(item.get("events") or (previous.events if previous else []))
        if item.get("_delete_events"):
            dropped = set(item.get("events") or events)
            events = [e for e in (previous.events if previous else []) if e not in dropped]
        token = kept("token", None)
        expiry = previous.expiry if previous and not item.get("channel_expiry") \
            else self._expiry(item.get("channel_expiry"))
        conditions = kept("notification_condition", [])
        return Channel(channel_id, events, kept("notify_url", ""),
                       None if token is None else str(token), expiry, base,
                       bool(kept("return_affected_field_values", False)),
                       bool(kept("notify_on_related_action", True)),
                       _watched_fields(conditions), conditions)

    def _expiry(self, requested: str | None) -> str:
        now = datetime.fromtimestamp(self.settings.now(), self.settings.zone)
        if requested:
            try:
                moment = datetime.fromisoformat(requested)
            except ValueError:
                raise CrmError(400, "INVALID_DATA", "invalid data",
                               {"api_name": "channel_expiry"}) from None
            if moment.tzinfo and now < moment <= now + MAX_EXPIRY:
                return self.settings.stamp(moment.timestamp())
        return self.settings.stamp((now + DEFAULT_EXPIRY).timestamp())

    async def list_channels(self, request: web.Request) -> web.Response:
        wanted = request.query.get("channel_id")
        return listing([c.public() for c in self.channels.values()
                        if wanted in (None, c.channel_id)], key="watch")

    async def disable(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("channel_ids", "").split(",") if i]
        if not ids:
            raise missing_param("channel_ids")
        dropped = [self.channels.pop(channel_id, None) for channel_id in ids]
        return web.json_response({"watch": [
            success("Successfully un-subscribed from actions-watch",
                    {"events": channel.events_detail(channel.events) if channel else [],
                     "channel_id": channel_id})
            for channel_id, channel in zip(ids, dropped, strict=True)]})

    # -- callbacks ----------------------------------------------------------------------------
    def record_changed(self, change: Change) -> None:
        """A store listener: queue callbacks for every interested, unexpired channel."""
        now = self.settings.now()
        for channel in self.channels.values():
            if datetime.fromisoformat(channel.expiry).timestamp() <= now:
                continue
            if channel.wants(change.module, change.operation):
                ids = [i for i in change.ids if channel.cares_about(change, i)]
                if ids:
                    self._send(channel, change.module, change.operation, ids, change)
            if channel.related:
                self._send_related(channel, change)

    def _send_related(self, channel: Channel, change: Change) -> None:
        """A note/attachment change, seen by the parent module's channel as an update."""
        by_module: dict[str, list[str]] = {}
        for module, record_id in change.parents:
            if channel.wants(module, "update") and record_id not in by_module.get(module, []):
                by_module.setdefault(module, []).append(record_id)
        for module, ids in by_module.items():
            self._send(channel, module, "update", ids, None)

    def _send(self, channel: Channel, module: str, operation: str, ids: list[str],
              change: Change | None) -> None:
        fields = change.fields if change else {}
        body: dict[str, Any] = {
            "server_time": int(self.settings.now() * 1000),
            "query_params": dict(parse_qsl(urlsplit(channel.notify_url).query)),
            "module": module, "resource_uri": f"{channel.api_base}/{module}", "ids": ids,
            "affected_fields": [{i: fields[i]} for i in ids if i in fields],
            "operation": operation, "channel_id": channel.channel_id,
            "token": channel.token}
        if channel.return_values and change and operation == "update":
            body["affected_values"] = [{"record_id": i, "values": change.values[i]}
                                       for i in ids if i in change.values]
        self.notifier.send(channel.notify_url, body)


_MESSAGES = {"POST": "Successfully subscribed for actions-watch of the given module",
             "PUT": "Successfully updated the subscribe details",
             "PATCH": "Successfully updated the subscribe details",
             "DROP": "Successfully removed the subscribe details"}
_ATTRS = {"notify_url": "notify_url", "token": "token",
          "return_affected_field_values": "return_values",
          "notify_on_related_action": "related", "notification_condition": "conditions"}


def _check_events(events: list[Any]) -> None:
    for event in events:
        module, _, verb = str(event).partition(".")
        if (module not in MODULES and module not in CHILD_MODULES) or verb not in _VERBS:
            raise CrmError(400, "INVALID_DATA", "invalid data",
                           {"api_name": "events", "json_path": "$.watch[0].events"})


def _watched_fields(conditions: list[dict[str, Any]]) -> dict[str, set[str]]:
    """``notification_condition`` field selections → module → field api names."""
    watched: dict[str, set[str]] = {}
    for condition in conditions:
        module = (condition.get("module") or {}).get("api_name", "")
        selection = condition.get("field_selection") or {}
        for part in [selection, *(selection.get("group") or [])]:
            name = (part.get("field") or {}).get("api_name")
            if name:
                watched.setdefault(module, set()).add(name)
    return watched
