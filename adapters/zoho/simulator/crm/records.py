"""``/crm/v8/{module}``: list (fields, page/page_token, If-Modified-Since, sort), get,
insert/update/upsert in batches of at most 100, delete, search."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from adapters.zoho.simulator.common import read_json
from adapters.zoho.simulator.crm.data import MODULES
from adapters.zoho.simulator.crm.query import matches, page_token, parse_time, token_offset
from adapters.zoho.simulator.crm.replies import (
    CrmError,
    failure,
    invalid_id,
    missing_param,
    results,
    success,
)
from adapters.zoho.simulator.crm.store import CrmStore

API = "/crm/v8"
MAX_PER_PAGE = 200
MAX_FIELDS = 50
DISCRETE_LIMIT = 2000
BATCH_LIMIT = 100
_AUDIT = ("id", "Created_Time", "Modified_Time", "Created_By", "Modified_By")


def module_of(request: web.Request) -> str:
    module = request.match_info["module"]
    if module not in MODULES:
        raise CrmError(400, "INVALID_MODULE", "the module name given seems to be invalid",
                       {"resource_path_index": 0})
    return module


def record_in_path(store: CrmStore, request: web.Request) -> tuple[str, dict[str, Any]]:
    """``(module, record)`` named by ``/{module}/{id}/…``; INVALID_DATA when unknown."""
    module = module_of(request)
    record = store.find(module, request.match_info["id"])
    if record is None:
        raise invalid_id(request.match_info["id"])
    return module, record


async def data_rows(request: web.Request) -> list[dict[str, Any]]:
    """The ``data`` array of a write; the body is JSON whatever its Content-Type."""
    try:
        body = await read_json(request)
    except msgspec.DecodeError:
        raise CrmError(400, "INVALID_DATA", "body is not valid JSON") from None
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                       {"api_name": "data", "json_path": "$.data"})
    if len(rows) > BATCH_LIMIT:
        raise CrmError(400, "LIMIT_EXCEEDED", "the number of records exceeds 100",
                       {"limit": BATCH_LIMIT})
    return rows


def _int_param(request: web.Request, name: str, default: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise CrmError(400, "INVALID_DATA", "invalid data", {"param_name": name}) from None
    if value < 1:
        raise CrmError(400, "INVALID_DATA", "invalid data", {"param_name": name})
    return value


class RecordsApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{API}/{{module}}/search", self.search)
        router.add_post(f"{API}/{{module}}/upsert", self.upsert)
        router.add_get(f"{API}/{{module}}", self.list_records)
        router.add_post(f"{API}/{{module}}", self.insert)
        router.add_put(f"{API}/{{module}}", self.update_many)
        router.add_delete(f"{API}/{{module}}", self.delete_many)
        router.add_get(f"{API}/{{module}}/{{id}}", self.get_record)
        router.add_put(f"{API}/{{module}}/{{id}}", self.update_one)
        router.add_delete(f"{API}/{{module}}/{{id}}", self.delete_one)

    # -- reads ------------------------------------------------------------------------------
    async def list_records(self, request: web.Request) -> web.Response:
        module, query = module_of(request), request.query
        wanted = [f for f in query.get("fields", "").split(",") if f]
        if not wanted:
            raise missing_param("fields")
        if len(wanted) > MAX_FIELDS:
            raise CrmError(400, "LIMIT_EXCEEDED", "Fields limit exceeded", {"limit": MAX_FIELDS})
        if "page" in query and "page_token" in query:
            raise CrmError(400, "AMBIGUITY_DURING_PROCESSING",
                           "page and page_token cannot be combined")
        per_page = min(_int_param(request, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
        if "page_token" in query:
            start = token_offset(query["page_token"])
        else:
            start = (_int_param(request, "page", 1) - 1) * per_page
            if start + per_page > DISCRETE_LIMIT:
                raise CrmError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                               "You can only get the first 2000 records without using "
                               "page_token param", {"limit": DISCRETE_LIMIT})
        rows = list(self.store.module(module).values())
        since = request.headers.get("If-Modified-Since")
        if since:
            moment = parse_time(since)
            rows = [r for r in rows if parse_time(r["Modified_Time"]) > moment]
            if not rows:
                return web.Response(status=304)
        sort_by, order = query.get("sort_by", "id"), query.get("sort_order", "desc")
        rows.sort(key=lambda r: r.get(sort_by, r["id"]), reverse=order == "desc")
        page = rows[start:start + per_page]
        if not page:
            return web.Response(status=204)
        keep = set(wanted) | {"id"}
        more = start + per_page < len(rows)
        info = {"per_page": per_page, "count": len(page), "sort_by": sort_by,
                "sort_order": order, "more_records": more, "page": start // per_page + 1,
                "next_page_token": page_token(start + per_page) if more else None,
                "previous_page_token": None, "page_token_expiry": None}
        return web.json_response({"data": [{k: v for k, v in r.items() if k in keep}
                                           for r in page], "info": info})

    async def get_record(self, request: web.Request) -> web.Response:
        record = self.store.find(module_of(request), request.match_info["id"])
        if record is None:
            return web.Response(status=204)
        return web.json_response({"data": [record]})

    async def search(self, request: web.Request) -> web.Response:
        module, query = module_of(request), request.query
        rows = list(self.store.module(module).values())
        if "criteria" in query:
            found = [r for r in rows if matches(query["criteria"], r)]
        else:
            key = next((k for k in ("email", "phone", "word") if k in query), None)
            if key is None:
                raise missing_param("criteria")
            found = self._by_word(rows, key, query[key].lower())
        if not found:
            return web.Response(status=204)
        per_page = min(_int_param(request, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
        page = _int_param(request, "page", 1)
        chunk = found[(page - 1) * per_page:page * per_page]
        return web.json_response({"data": chunk, "info": {
            "per_page": per_page, "count": len(chunk), "page": page,
            "more_records": page * per_page < len(found)}})

    @staticmethod
    def _by_word(rows: list[dict[str, Any]], key: str, needle: str) -> list[dict[str, Any]]:
        if len(needle) < 2:
            raise CrmError(400, "INVALID_DATA", "the search word should have at least 2 "
                           "characters", {"param_name": key})
        return [r for r in rows if any(needle in str(v).lower() for k, v in r.items()
                                       if key == "word" or k.lower().startswith(key))]

    # -- writes -----------------------------------------------------------------------------
    async def insert(self, request: web.Request) -> web.Response:
        return self._write(module_of(request), await data_rows(request), "insert")

    async def update_many(self, request: web.Request) -> web.Response:
        return self._write(module_of(request), await data_rows(request), "update")

    async def update_one(self, request: web.Request) -> web.Response:
        rows = await data_rows(request)
        rows[0]["id"] = request.match_info["id"]
        return self._write(module_of(request), rows[:1], "update")

    async def upsert(self, request: web.Request) -> web.Response:
        return self._write(module_of(request), await data_rows(request), "upsert")

    def _write(self, module: str, rows: list[dict[str, Any]], mode: str) -> web.Response:
        items = [self._write_one(module, values, index, mode)
                 for index, values in enumerate(rows)]
        return results(items, 201 if mode == "insert" else 200)

    def _write_one(self, module: str, values: dict[str, Any], index: int,
                   mode: str) -> dict[str, Any]:
        existing = None if mode == "insert" else self.store.find(module, str(values.get("id")))
        if mode == "upsert" and existing is None:
            existing = self.store.duplicate_of(module, values)
        if mode == "update" and existing is None:
            return failure("INVALID_DATA", "the id given seems to be invalid",
                           {"id": values.get("id")})
        problem = self.store.problem(module, values, index, creating=existing is None)
        if problem:
            return problem
        if existing is None:
            record = self.store.insert(module, values)
        else:
            record = self.store.update(module, existing, values)
        item = success("record added" if existing is None else "record updated",
                       {k: record[k] for k in _AUDIT})
        if mode == "upsert":
            item["action"] = "insert" if existing is None else "update"
            item["duplicate_field"] = None if existing is None else MODULES[module][2]
        return item

    async def delete_one(self, request: web.Request) -> web.Response:
        return self._delete(module_of(request), [request.match_info["id"]])

    async def delete_many(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            raise missing_param("ids")
        if len(ids) > BATCH_LIMIT:
            raise CrmError(400, "LIMIT_EXCEEDED", "the number of records exceeds 100",
                           {"limit": BATCH_LIMIT})
        return self._delete(module_of(request), ids)

    def _delete(self, module: str, ids: list[str]) -> web.Response:
        return results([
            success("record deleted", {"id": record_id}) if self.store.delete(module, record_id)
            else invalid_id_item(record_id) for record_id in ids])


def invalid_id_item(record_id: str) -> dict[str, Any]:
    error = invalid_id(record_id)
    return failure(error.code, error.message, error.details)
