"""Reads beside the plain listing: ``/{module}/search`` (through the lagging search index),
``/{module}/deleted`` (the recycle bin), ``/{module}/actions/count`` and ``/coql``."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from adapters.zoho.simulator.common import read_json
from adapters.zoho.simulator.crm import coql
from adapters.zoho.simulator.crm.data import field_types
from adapters.zoho.simulator.crm.query import matches, parse_time
from adapters.zoho.simulator.crm.records import API, MAX_PER_PAGE, int_param, module_of
from adapters.zoho.simulator.crm.replies import CrmError, missing_param
from adapters.zoho.simulator.crm.store import CrmStore

DELETED_TYPES = ("all", "recycle", "permanent")


class QueriesApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store

    def routes(self, router: web.UrlDispatcher) -> None:
        """Registered before ``/{module}/{id}`` so that ``deleted`` is no record id."""
        router.add_post(f"{API}/coql", self.coql)
        router.add_get(f"{API}/{{module}}/search", self.search)
        router.add_get(f"{API}/{{module}}/deleted", self.deleted)
        router.add_get(f"{API}/{{module}}/actions/count", self.count)

    async def search(self, request: web.Request) -> web.Response:
        module, query = module_of(request), request.query
        rows = self.store.searchable(module)
        if "criteria" in query:
            types = field_types(module) or {}
            found = [r for r in rows if matches(query["criteria"], r, types)]
        else:
            key = next((k for k in ("email", "phone", "word") if k in query), None)
            if key is None:
                raise missing_param("criteria")
            found = _by_word(rows, key, query[key].lower())
        return _paged(request, found)

    async def deleted(self, request: web.Request) -> web.Response:
        module = module_of(request)
        kind = request.query.get("type", "all")
        if kind not in DELETED_TYPES:
            raise CrmError(400, "INVALID_DATA", "invalid data", {"param_name": "type"})
        entries = [e for e in reversed(self.store.deleted.get(module, []))  # newest first
                   if kind in ("all", e["type"])]
        since = request.headers.get("If-Modified-Since")
        if since:
            moment = parse_time(since)
            entries = [e for e in entries if parse_time(e["deleted_time"]) > moment]
            if not entries:
                return web.Response(status=304)
        return _paged(request, entries)

    async def count(self, request: web.Request) -> web.Response:
        return web.json_response({"count": len(self.store.module(module_of(request)))})

    async def coql(self, request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
        except msgspec.DecodeError:
            raise CrmError(400, "INVALID_DATA", "body is not valid JSON") from None
        text = body.get("select_query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                           {"api_name": "select_query", "json_path": "$.select_query"})
        query = coql.parse(text, field_types)
        rows, more = coql.run(query, list(self.store.module(query.module).values()))
        if not rows:
            return web.Response(status=204)
        return web.json_response({"data": rows,
                                  "info": {"count": len(rows), "more_records": more}})


def _paged(request: web.Request, found: list[dict[str, Any]]) -> web.Response:
    """``page``/``per_page`` over ``found``; 204 when the page is empty."""
    per_page = min(int_param(request, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
    page = int_param(request, "page", 1)
    chunk = found[(page - 1) * per_page:page * per_page]
    if not chunk:
        return web.Response(status=204)
    return web.json_response({"data": chunk, "info": {
        "per_page": per_page, "count": len(chunk), "page": page,
        "more_records": page * per_page < len(found)}})


def _by_word(rows: list[dict[str, Any]], key: str, needle: str) -> list[dict[str, Any]]:
    if len(needle) < 2:
        raise CrmError(400, "INVALID_DATA", "the search word should have at least 2 "
                       "characters", {"param_name": key})
    return [r for r in rows if any(needle in str(v).lower() for k, v in r.items()
                                   if key == "word" or k.lower().startswith(key))]
