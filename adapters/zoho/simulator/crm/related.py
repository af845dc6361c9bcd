"""``/{module}/{id}/{related_list}``: Stage_History, Tasks and the other related lists."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.zoho.simulator.crm.data import DEFAULT_RELATED, RELATED_LISTS
from adapters.zoho.simulator.crm.records import API, record_in_path
from adapters.zoho.simulator.crm.replies import CrmError, listing
from adapters.zoho.simulator.crm.store import CrmStore


class RelatedApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{API}/{{module}}/{{id}}/{{related}}", self.related)

    async def related(self, request: web.Request) -> web.Response:
        module, record = record_in_path(self.store, request)
        name = request.match_info["related"]
        if name not in RELATED_LISTS.get(module, DEFAULT_RELATED):
            raise CrmError(400, "INVALID_URL_PATTERN",
                           "Please check if the URL trying to access is a correct one")
        return listing(self._rows(name, record["id"]))

    def _rows(self, name: str, record_id: str) -> list[dict[str, Any]]:
        if name == "Stage_History":
            return self.store.stage_history.get(record_id, [])
        if name == "Tasks":
            return [t for t in self.store.module("Tasks").values()
                    if (t.get("What_Id") or {}).get("id") == record_id]
        return []
