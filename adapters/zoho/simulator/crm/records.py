"""``/crm/v8/{module}``: list (fields, page/page_token, If-Modified-Since, sort), get
(If-Modified-Since → 304), insert/update/upsert in batches of at most 100 (updates honour
If-Unmodified-Since), delete."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from adapters.zoho.simulator.common import read_json
from adapters.zoho.simulator.crm.data import MODULES
from adapters.zoho.simulator.crm.query import page_token, parse_time, token_offset
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
PAGE_TOKEN_TTL = 24 * 3600
SORTABLE = ("id", "Created_Time", "Modified_Time")
AUDIT = ("id", "Created_Time", "Modified_Time", "Created_By", "Modified_By")


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


def required_fields(request: web.Request) -> set[str]:
    """The ``fields`` parameter v8 demands on lists (at most 50 names), plus ``id``."""
    wanted = [f for f in request.query.get("fields", "").split(",") if f]
    if not wanted:
        raise missing_param("fields")
    if len(wanted) > MAX_FIELDS:
        raise CrmError(400, "LIMIT_EXCEEDED", "Fields limit exceeded", {"limit": MAX_FIELDS})
    return {*wanted, "id"}


def selected(row: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in wanted}


def int_param(request: web.Request, name: str, default: int) -> int:
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
        wanted = required_fields(request)
        if "page" in query and "page_token" in query:
            raise CrmError(400, "AMBIGUITY_DURING_PROCESSING",
                           "page and page_token cannot be combined")
        per_page = min(int_param(request, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
        if "page_token" in query:
            start = token_offset(query["page_token"])
        else:
            start = (int_param(request, "page", 1) - 1) * per_page
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
        if sort_by not in SORTABLE:
            raise CrmError(400, "INVALID_DATA", "invalid data", {"param_name": "sort_by"})
        by_time = sort_by != "id"  # Created_Time / Modified_Time: instants, not text
        rows.sort(key=lambda r: (parse_time(r[sort_by]), r["id"]) if by_time else r["id"],
                  reverse=order == "desc")
        page = rows[start:start + per_page]
        if not page:
            return web.Response(status=204)
        more = start + per_page < len(rows)
        info = {"per_page": per_page, "count": len(page), "sort_by": sort_by,
                "sort_order": order, "more_records": more, "page": start // per_page + 1,
                "next_page_token": page_token(start + per_page) if more else None,
                "previous_page_token": None,
                "page_token_expiry": self._token_expiry() if more else None}
        return web.json_response({"data": [selected(r, wanted) for r in page], "info": info})

    def _token_expiry(self) -> str:
        settings = self.store.settings
        return settings.stamp(settings.now() + PAGE_TOKEN_TTL)

    async def get_record(self, request: web.Request) -> web.Response:
        record = self.store.find(module_of(request), request.match_info["id"])
        if record is None:
            return web.Response(status=204)
        since = request.headers.get("If-Modified-Since")
        if since and parse_time(record["Modified_Time"]) <= parse_time(since):
            return web.Response(status=304)
        return web.json_response({"data": [record]})

    # -- writes -----------------------------------------------------------------------------
    async def insert(self, request: web.Request) -> web.Response:
        return self._write(module_of(request), await data_rows(request), "insert")

    async def update_many(self, request: web.Request) -> web.Response:
        module, rows = module_of(request), await data_rows(request)
        self._refuse_if_modified(request, module, rows)
        return self._write(module, rows, "update")

    async def update_one(self, request: web.Request) -> web.Response:
        module, rows = module_of(request), await data_rows(request)
        rows[0]["id"] = request.match_info["id"]
        self._refuse_if_modified(request, module, rows[:1])
        return self._write(module, rows[:1], "update")

    def _refuse_if_modified(self, request: web.Request, module: str,
                            rows: list[dict[str, Any]]) -> None:
        """``If-Unmodified-Since``: nothing is written when a record changed after it."""
        header = request.headers.get("If-Unmodified-Since")
        if not header:
            return
        moment = parse_time(header, "If-Unmodified-Since")
        for row in rows:
            record = self.store.find(module, str(row.get("id")))
            if record is not None and parse_time(record["Modified_Time"]) > moment:
                raise CrmError(412, "ALREADY_MODIFIED",
                               "the record was modified after the given time",
                               {"id": record["id"], "Modified_Time": record["Modified_Time"]})

    async def upsert(self, request: web.Request) -> web.Response:
        return self._write(module_of(request), await data_rows(request), "upsert")

    def _write(self, module: str, rows: list[dict[str, Any]], mode: str) -> web.Response:
        with self.store.changes.batch():  # one callback per request, as Zoho sends them
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
                       {k: record[k] for k in AUDIT})
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
        with self.store.changes.batch():
            return results([
                success("record deleted", {"id": record_id})
                if self.store.delete(module, record_id) else invalid_id_item(record_id)
                for record_id in ids])


def invalid_id_item(record_id: str) -> dict[str, Any]:
    error = invalid_id(record_id)
    return failure(error.code, error.message, error.details)
