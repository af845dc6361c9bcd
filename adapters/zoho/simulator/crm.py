"""Zoho CRM v8 simulator: records, metadata, search, notes, attachments, related lists,
notification channels, API credits and the per-org concurrency limit."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from adapters.simulation import CONTROL_PREFIX, Faults, Handler, add_fault_routes, faults_middleware
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.crm_data import (
    DEFAULT_RELATED,
    MODULES,
    RELATED_LISTS,
    SAMPLES,
    field_metadata,
)

API = "/crm/v8"
MAX_PER_PAGE = 200
DISCRETE_LIMIT = 2000
BATCH_LIMIT = 100
OWNER = {"name": "Bridge Admin", "id": "5551000000000001", "email": "admin@example.com"}


class CrmError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "details": self.details,
                                  "message": self.message, "status": "error"},
                                 status=self.status, headers=self.headers)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class Watch:
    channel_id: str
    events: list[str]
    notify_url: str
    token: str
    expiry: str


@dataclass
class CrmState:
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    stage_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    watches: dict[str, Watch] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return f"555100000{next(self._ids):010d}"


class ZohoCrmSimulator:
    def __init__(self, accounts: ZohoAccountsSimulator, *, seed: bool = True,
                 credits: int = 50_000, concurrency: int = 10,
                 faults: Faults | None = None) -> None:
        self.accounts = accounts
        self.state = CrmState()
        self.credits_left = credits
        self.concurrency = concurrency
        self.faults = faults or Faults()
        self._active = 0
        self._outbox: asyncio.Queue[tuple[Watch, dict[str, Any]]] = asyncio.Queue()
        self.notifications_sent: list[dict[str, Any]] = []
        if seed:
            for module, rows in SAMPLES.items():
                for row in rows:
                    self._insert(module, dict(row))

    def sandbox_info(self, base_url: str) -> dict[str, Any]:
        accounts = self.accounts
        return {"zoho": {"crm_api_url": base_url, "client_id": accounts.client_id,
                         "client_secret": accounts.client_secret,
                         "code": accounts.issue_grant_code(),
                         "refresh_token": accounts.issue_refresh_token()}}

    # -- app --------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[faults_middleware(self.faults), self._guard])
        r = app.router
        r.add_get(f"{API}/users", self.current_user)
        r.add_get(f"{API}/org", self.org)
        r.add_get(f"{API}/settings/modules", self.modules)
        r.add_get(f"{API}/settings/fields", self.fields)
        r.add_post(f"{API}/actions/watch", self.watch)
        r.add_put(f"{API}/actions/watch", self.watch)
        r.add_patch(f"{API}/actions/watch", self.watch)
        r.add_get(f"{API}/actions/watch", self.list_watches)
        r.add_delete(f"{API}/actions/watch", self.unwatch)
        r.add_get(f"{API}/Notes", self.all_notes)
        r.add_post(f"{API}/Notes", self.create_notes)
        r.add_put(f"{API}/Notes/{{note}}", self.update_note)
        r.add_delete(f"{API}/Notes/{{note}}", self.delete_note)
        r.add_get(f"{API}/{{module}}/search", self.search)
        r.add_post(f"{API}/{{module}}/upsert", self.upsert)
        r.add_get(f"{API}/{{module}}", self.list_records)
        r.add_post(f"{API}/{{module}}", self.insert)
        r.add_put(f"{API}/{{module}}", self.update_many)
        r.add_delete(f"{API}/{{module}}", self.delete_many)
        r.add_get(f"{API}/{{module}}/{{id}}", self.get_record)
        r.add_put(f"{API}/{{module}}/{{id}}", self.update_one)
        r.add_delete(f"{API}/{{module}}/{{id}}", self.delete_one)
        r.add_get(f"{API}/{{module}}/{{id}}/Notes", self.list_notes)
        r.add_post(f"{API}/{{module}}/{{id}}/Notes", self.add_notes)
        r.add_get(f"{API}/{{module}}/{{id}}/Attachments", self.list_attachments)
        r.add_post(f"{API}/{{module}}/{{id}}/Attachments", self.upload)
        r.add_get(f"{API}/{{module}}/{{id}}/Attachments/{{att}}", self.download)
        r.add_delete(f"{API}/{{module}}/{{id}}/Attachments/{{att}}", self.delete_attachment)
        r.add_get(f"{API}/{{module}}/{{id}}/{{related}}", self.related)
        r.add_get("/_sim/state", self.sim_state)
        add_fault_routes(app, self.faults)
        app.cleanup_ctx.append(self._notifier)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Auth, API credits and concurrency, then Zoho-shaped errors."""
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        try:
            self._authenticate(request)
            if self.credits_left <= 0 or self._active >= self.concurrency:
                raise CrmError(429, "TOO_MANY_REQUESTS", "Too many requests",
                               headers={"Retry-After": "1"})
            self.credits_left -= 1
            self._active += 1
            try:
                return await handler(request)
            finally:
                self._active -= 1
        except CrmError as exc:
            return exc.response()

    def _authenticate(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not self.accounts.is_valid_access_token(token):
            raise CrmError(401, "INVALID_TOKEN", "invalid oauth token")

    # -- helpers -----------------------------------------------------------------------------
    def _module(self, request: web.Request) -> str:
        module = request.match_info["module"]
        if module not in MODULES:
            raise CrmError(400, "INVALID_MODULE", "the module name given seems to be invalid",
                           {"resource_path_index": 0})
        return module

    def _record(self, module: str, record_id: str) -> dict[str, Any]:
        record = self.state.records.get(module, {}).get(record_id)
        if record is None:
            raise CrmError(400, "INVALID_DATA", "the related id given seems to be invalid",
                           {"id": record_id})
        return record

    @staticmethod
    async def _data(request: web.Request) -> list[dict[str, Any]]:
        # The official SDK sends JSON without a Content-Type: parse regardless.
        try:
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            raise CrmError(400, "INVALID_DATA", "body is not valid JSON") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                           {"api_name": "data", "json_path": "$.data"})
        if len(data) > BATCH_LIMIT:
            raise CrmError(400, "LIMIT_EXCEEDED", "the number of records exceeds 100",
                           {"limit": BATCH_LIMIT})
        return data

    def _insert(self, module: str, values: dict[str, Any]) -> dict[str, Any]:
        record_id = self.state.new_id()
        stamp = _now()
        record = {**values, "id": record_id, "Owner": OWNER, "Created_Time": stamp,
                  "Modified_Time": stamp, "Created_By": OWNER, "Modified_By": OWNER}
        self.state.records.setdefault(module, {})[record_id] = record
        if module == "Deals" and values.get("Stage"):
            self._stage_row(record)
        return record

    def _stage_row(self, deal: dict[str, Any]) -> None:
        self.state.stage_history.setdefault(deal["id"], []).insert(0, {
            "id": self.state.new_id(), "Stage": deal.get("Stage"), "Amount": deal.get("Amount"),
            "Modified_Time": deal["Modified_Time"], "Modified_By": OWNER})

    def _validate(self, module: str, values: dict[str, Any], index: int,
                  creating: bool) -> dict[str, Any] | None:
        """A per-record error item, or None when the values are acceptable."""
        name_field = MODULES[module][2]
        if creating and not values.get(name_field):
            return {"code": "MANDATORY_NOT_FOUND", "message": "required field not found",
                    "status": "error", "details": {"api_name": name_field,
                                                   "json_path": f"$.data[{index}].{name_field}"}}
        known = {api for api, _ in MODULES[module][1]} | {"id"}
        for api_name, value in values.items():
            if api_name not in known and not api_name.startswith("$"):
                return {"code": "INVALID_DATA", "message": "invalid data", "status": "error",
                        "details": {"api_name": api_name,
                                    "json_path": f"$.data[{index}].{api_name}"}}
            if api_name == "Amount" and not isinstance(value, int | float):
                return {"code": "INVALID_DATA", "message": "invalid data", "status": "error",
                        "details": {"expected_data_type": "double", "api_name": api_name,
                                    "json_path": f"$.data[{index}].{api_name}"}}
        return None

    def _write(self, module: str, rows: list[dict[str, Any]], mode: str) -> web.Response:
        results: list[dict[str, Any]] = []
        for index, values in enumerate(rows):
            existing = self.state.records.get(module, {}).get(str(values.get("id", "")))
            if mode == "upsert" and existing is None:
                existing = self._duplicate(module, values)
            creating = existing is None
            if not creating or mode == "insert" or mode == "upsert":
                error = self._validate(module, values, index, creating)
            else:
                error = {"code": "INVALID_DATA", "message": "the id given seems to be invalid",
                         "status": "error", "details": {"id": values.get("id")}}
            if error:
                results.append(error)
                continue
            record = self._insert(module, values) if creating else self._update(
                module, existing, values)  # type: ignore[arg-type]
            item = {"code": "SUCCESS", "status": "success",
                    "message": "record added" if creating else "record updated",
                    "details": {k: record[k] for k in ("id", "Created_Time", "Modified_Time",
                                                       "Created_By", "Modified_By")}}
            if mode == "upsert":
                item["action"] = "insert" if creating else "update"
                item["duplicate_field"] = None if creating else MODULES[module][2]
            results.append(item)
            self._notify(module, "insert" if creating else "update", record["id"])
        ok = sum(1 for r in results if r["status"] == "success")
        status = 400 if ok == 0 else (207 if ok < len(results) else
                                      (201 if mode == "insert" else 200))
        return web.json_response({"data": results}, status=status)

    def _duplicate(self, module: str, values: dict[str, Any]) -> dict[str, Any] | None:
        key = "Email" if any(api == "Email" for api, _ in MODULES[module][1]) \
            else MODULES[module][2]
        return next((r for r in self.state.records.get(module, {}).values()
                     if values.get(key) and r.get(key) == values.get(key)), None)

    def _update(self, module: str, record: dict[str, Any],
                values: dict[str, Any]) -> dict[str, Any]:
        stage_before = record.get("Stage")
        record.update({k: v for k, v in values.items() if k != "id"})
        record["Modified_Time"] = _now()
        if module == "Deals" and record.get("Stage") != stage_before:
            self._stage_row(record)
        return record

    # -- metadata ----------------------------------------------------------------------------
    async def current_user(self, request: web.Request) -> web.Response:
        return web.json_response({"users": [{**OWNER, "full_name": OWNER["name"],
                                             "status": "active", "role": {"name": "CEO"}}]})

    async def org(self, request: web.Request) -> web.Response:
        return web.json_response({"org": [{"id": "5551000000000000", "zgid": "7000000001",
                                           "company_name": "Bridge Demo Inc.",
                                           "time_zone": "UTC", "currency": "USD"}]})

    async def modules(self, request: web.Request) -> web.Response:
        return web.json_response({"modules": [
            {"api_name": api, "module_name": name, "plural_label": name, "api_supported": True,
             "generated_type": "default", "id": f"5551000000{n:06d}", "creatable": True,
             "editable": True, "deletable": True, "viewable": True}
            for n, (api, (name, _, _)) in enumerate(MODULES.items())]})

    async def fields(self, request: web.Request) -> web.Response:
        module = request.query.get("module", "")
        if module not in MODULES:
            raise CrmError(400, "INVALID_MODULE", "the module name given seems to be invalid")
        return web.json_response({"fields": field_metadata(module)})

    # -- records -----------------------------------------------------------------------------
    async def list_records(self, request: web.Request) -> web.Response:
        module = self._module(request)
        query = request.query
        if not query.get("fields"):
            raise CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is "
                           "missing", {"param_name": "fields"})
        if "page" in query and "page_token" in query:
            raise CrmError(400, "AMBIGUITY_DURING_PROCESSING",
                           "page and page_token cannot be combined")
        per_page = min(int(query.get("per_page", MAX_PER_PAGE)), MAX_PER_PAGE)
        start = (_token_offset(query["page_token"]) if "page_token" in query
                 else (int(query.get("page", 1)) - 1) * per_page)
        if "page_token" not in query and start + per_page > DISCRETE_LIMIT:
            raise CrmError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "You can only get the "
                           "first 2000 records without using page_token param",
                           {"limit": DISCRETE_LIMIT})
        rows = list(self.state.records.get(module, {}).values())
        since = request.headers.get("If-Modified-Since")
        if since:
            limit = _parse_time(since)
            rows = [r for r in rows if _parse_time(r["Modified_Time"]) > limit]
            if not rows:
                return web.Response(status=304)
        sort_by = query.get("sort_by", "id")
        rows.sort(key=lambda r: r.get(sort_by, r["id"]),
                  reverse=query.get("sort_order", "desc") == "desc")
        page = rows[start:start + per_page]
        if not page:
            return web.Response(status=204)
        wanted = set(query["fields"].split(",")) | {"id"}
        more = start + per_page < len(rows)
        info = {"per_page": per_page, "count": len(page), "sort_by": sort_by,
                "sort_order": query.get("sort_order", "desc"), "more_records": more,
                "page": start // per_page + 1,
                "next_page_token": _token(start + per_page) if more else None,
                "previous_page_token": None, "page_token_expiry": None}
        return web.json_response({"data": [{k: v for k, v in r.items() if k in wanted}
                                           for r in page], "info": info})

    async def get_record(self, request: web.Request) -> web.Response:
        module = self._module(request)
        record = self.state.records.get(module, {}).get(request.match_info["id"])
        if record is None:
            return web.Response(status=204)
        return web.json_response({"data": [record]})

    async def insert(self, request: web.Request) -> web.Response:
        return self._write(self._module(request), await self._data(request), "insert")

    async def update_many(self, request: web.Request) -> web.Response:
        return self._write(self._module(request), await self._data(request), "update")

    async def update_one(self, request: web.Request) -> web.Response:
        rows = await self._data(request)
        rows[0]["id"] = request.match_info["id"]
        return self._write(self._module(request), rows[:1], "update")

    async def upsert(self, request: web.Request) -> web.Response:
        return self._write(self._module(request), await self._data(request), "upsert")

    async def delete_one(self, request: web.Request) -> web.Response:
        return self._delete(self._module(request), [request.match_info["id"]])

    async def delete_many(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            raise CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is "
                           "missing", {"param_name": "ids"})
        return self._delete(self._module(request), ids)

    def _delete(self, module: str, ids: list[str]) -> web.Response:
        results = []
        for record_id in ids:
            if self.state.records.get(module, {}).pop(record_id, None) is None:
                results.append({"code": "INVALID_DATA", "status": "error",
                                "message": "the related id given seems to be invalid",
                                "details": {"id": record_id}})
                continue
            results.append({"code": "SUCCESS", "status": "success",
                            "message": "record deleted", "details": {"id": record_id}})
            self._notify(module, "delete", record_id)
        return web.json_response({"data": results})

    async def search(self, request: web.Request) -> web.Response:
        module = self._module(request)
        query = request.query
        rows = list(self.state.records.get(module, {}).values())
        if "criteria" in query:
            matches = [r for r in rows if _criteria(query["criteria"], r)]
        elif any(k in query for k in ("email", "phone", "word")):
            key = next(k for k in ("email", "phone", "word") if k in query)
            needle = query[key].lower()
            if len(needle) < 2:
                raise CrmError(400, "INVALID_DATA", "the search word should have at least 2 "
                               "characters", {"param_name": key})
            matches = [r for r in rows if any(needle in str(v).lower() for k, v in r.items()
                                              if key == "word" or k.lower().startswith(key))]
        else:
            raise CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is "
                           "missing", {"param_name": "criteria"})
        if not matches:
            return web.Response(status=204)
        per_page = min(int(query.get("per_page", MAX_PER_PAGE)), MAX_PER_PAGE)
        page = int(query.get("page", 1))
        chunk = matches[(page - 1) * per_page:page * per_page]
        return web.json_response({"data": chunk, "info": {
            "per_page": per_page, "count": len(chunk), "page": page,
            "more_records": page * per_page < len(matches)}})

    # -- notes, attachments, related lists ----------------------------------------------------
    async def list_notes(self, request: web.Request) -> web.Response:
        module = self._module(request)
        parent = self._record(module, request.match_info["id"])
        notes = [n for n in self.state.notes.values() if n["Parent_Id"]["id"] == parent["id"]]
        if not notes:
            return web.Response(status=204)
        return web.json_response({"data": notes, "info": {"count": len(notes),
                                                          "more_records": False}})

    async def add_notes(self, request: web.Request) -> web.Response:
        """``POST /{module}/{id}/Notes``: notes for the record in the path."""
        module = self._module(request)
        parent = self._record(module, request.match_info["id"])
        return self._store_notes([(row, module, parent) for row in await self._data(request)])

    async def create_notes(self, request: web.Request) -> web.Response:
        """``POST /Notes``: each note names its parent in ``Parent_Id`` (what the SDK sends)."""
        entries = []
        for row in await self._data(request):
            parent_ref = row.get("Parent_Id") or {}
            module_ref = parent_ref.get("module") or {}
            module = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
            module = module or row.get("$se_module")
            record = self.state.records.get(str(module), {}).get(str(parent_ref.get("id")))
            entries.append((row, str(module), record))
        return self._store_notes(entries)

    def _store_notes(self, entries: list[tuple[dict[str, Any], str, dict[str, Any] | None]]
                     ) -> web.Response:
        results = []
        for index, (row, module, parent) in enumerate(entries):
            missing = "Parent_Id" if parent is None else (
                "Note_Content" if not row.get("Note_Content") else None)
            if missing:
                results.append({"code": "MANDATORY_NOT_FOUND", "status": "error",
                                "message": "required field not found",
                                "details": {"api_name": missing,
                                            "json_path": f"$.data[{index}].{missing}"}})
                continue
            assert parent is not None
            note_id, stamp = self.state.new_id(), _now()
            self.state.notes[note_id] = {
                "id": note_id, "Note_Title": row.get("Note_Title"),
                "Note_Content": row["Note_Content"], "Created_Time": stamp,
                "Modified_Time": stamp, "Owner": OWNER, "$se_module": module,
                "Parent_Id": {"id": parent["id"], "name": parent.get(MODULES[module][2]),
                              "module": {"api_name": module}}}
            results.append({"code": "SUCCESS", "status": "success", "message": "record added",
                            "details": {"id": note_id, "Created_Time": stamp}})
        ok = any(r["status"] == "success" for r in results)
        return web.json_response({"data": results}, status=201 if ok else 400)

    async def all_notes(self, request: web.Request) -> web.Response:
        if not self.state.notes:
            return web.Response(status=204)
        notes = list(self.state.notes.values())
        return web.json_response({"data": notes, "info": {"count": len(notes),
                                                          "more_records": False}})

    def _note(self, request: web.Request) -> dict[str, Any]:
        note = self.state.notes.get(request.match_info["note"])
        if note is None:
            raise CrmError(400, "INVALID_DATA", "the related id given seems to be invalid")
        return note

    async def update_note(self, request: web.Request) -> web.Response:
        note = self._note(request)
        row = (await self._data(request))[0]
        note.update({k: row[k] for k in ("Note_Title", "Note_Content") if k in row})
        note["Modified_Time"] = _now()
        return web.json_response({"data": [{"code": "SUCCESS", "status": "success",
                                            "message": "record updated",
                                            "details": {"id": note["id"]}}]})

    async def delete_note(self, request: web.Request) -> web.Response:
        note = self._note(request)
        del self.state.notes[note["id"]]
        return web.json_response({"data": [{"code": "SUCCESS", "status": "success",
                                            "message": "record deleted",
                                            "details": {"id": note["id"]}}]})

    async def list_attachments(self, request: web.Request) -> web.Response:
        parent = self._record(self._module(request), request.match_info["id"])
        found = [{k: v for k, v in a.items() if k != "content"}
                 for a in self.state.attachments.values() if a["Parent_Id"]["id"] == parent["id"]]
        if not found:
            return web.Response(status=204)
        return web.json_response({"data": found, "info": {"count": len(found),
                                                          "more_records": False}})

    async def upload(self, request: web.Request) -> web.Response:
        parent = self._record(self._module(request), request.match_info["id"])
        reader = await request.multipart()
        part = await reader.next()
        if part is None or getattr(part, "name", None) != "file":
            raise CrmError(400, "MANDATORY_NOT_FOUND", "file is missing",
                           {"api_name": "file"})
        content = await part.read()  # type: ignore[union-attr]
        attachment_id, stamp = self.state.new_id(), _now()
        self.state.attachments[attachment_id] = {
            "id": attachment_id, "File_Name": part.filename or "file",
            "Size": str(len(content)), "Created_Time": stamp, "Modified_Time": stamp,
            "Owner": OWNER, "$file_id": attachment_id, "$type": "Attachment",
            "Parent_Id": {"id": parent["id"]}, "content": bytes(content)}
        return web.json_response({"data": [{"code": "SUCCESS", "status": "success",
                                            "message": "attachment uploaded successfully",
                                            "details": {"id": attachment_id,
                                                        "Created_Time": stamp}}]})

    async def download(self, request: web.Request) -> web.Response:
        attachment = self.state.attachments.get(request.match_info["att"])
        if attachment is None:
            raise CrmError(400, "INVALID_DATA", "the related id given seems to be invalid")
        return web.Response(body=attachment["content"],
                            content_type="application/octet-stream",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{attachment["File_Name"]}"'})

    async def delete_attachment(self, request: web.Request) -> web.Response:
        if self.state.attachments.pop(request.match_info["att"], None) is None:
            raise CrmError(400, "INVALID_DATA", "the related id given seems to be invalid")
        return web.json_response({"data": [{"code": "SUCCESS", "status": "success",
                                            "message": "record deleted",
                                            "details": {"id": request.match_info["att"]}}]})

    async def related(self, request: web.Request) -> web.Response:
        module = self._module(request)
        record = self._record(module, request.match_info["id"])
        name = request.match_info["related"]
        if name not in RELATED_LISTS.get(module, DEFAULT_RELATED):
            raise CrmError(400, "INVALID_URL_PATTERN", "Please check if the URL trying to "
                           "access is a correct one")
        rows: list[dict[str, Any]] = []
        if name == "Stage_History":
            rows = self.state.stage_history.get(record["id"], [])
        elif name == "Tasks":
            rows = [t for t in self.state.records.get("Tasks", {}).values()
                    if t.get("What_Id", {}).get("id") == record["id"]]
        if not rows:
            return web.Response(status=204)
        return web.json_response({"data": rows, "info": {"count": len(rows),
                                                         "more_records": False}})

    # -- notifications ------------------------------------------------------------------------
    async def watch(self, request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        results = []
        for item in body.get("watch", []):
            missing = [k for k in ("channel_id", "events", "notify_url") if not item.get(k)]
            if missing and request.method == "POST":
                raise CrmError(400, "MANDATORY_NOT_FOUND", "required field not found",
                               {"api_name": missing[0]})
            if len(item.get("token", "")) > 50:
                raise CrmError(400, "INVALID_DATA", "token exceeds 50 characters",
                               {"api_name": "token"})
            channel = str(item["channel_id"])
            expiry = item.get("channel_expiry") or _in_an_hour()
            if item.get("_delete_events"):
                self.state.watches.pop(channel, None)
            else:
                previous = self.state.watches.get(channel)
                self.state.watches[channel] = Watch(
                    channel, item.get("events") or (previous.events if previous else []),
                    item.get("notify_url") or (previous.notify_url if previous else ""),
                    item.get("token", previous.token if previous else ""), expiry)
            results.append({"code": "SUCCESS", "status": "success",
                            "message": "Successfully subscribed for actions-watch of the "
                                       "given module",
                            "details": {"events": [
                                {"channel_expiry": expiry, "resource_name": e.split(".")[0],
                                 "channel_id": channel,
                                 "resource_uri": f"{request.scheme}://{request.host}{API}/"
                                                 f"{e.split('.')[0]}"}
                                for e in item.get("events", [])]}})
        return web.json_response({"watch": results})

    async def list_watches(self, request: web.Request) -> web.Response:
        if not self.state.watches:
            return web.Response(status=204)
        return web.json_response({"watch": [
            {"channel_id": w.channel_id, "events": w.events, "notify_url": w.notify_url,
             "channel_expiry": w.expiry} for w in self.state.watches.values()]})

    async def unwatch(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("channel_ids", "").split(",") if i]
        for channel in ids:
            self.state.watches.pop(channel, None)
        return web.json_response({"watch": [{"code": "SUCCESS", "status": "success",
                                             "message": "Successfully unsubscribed",
                                             "details": {"channel_id": c}} for c in ids]})

    def _notify(self, module: str, operation: str, record_id: str) -> None:
        short = {"insert": "create", "update": "edit", "delete": "delete"}[operation]
        for watch in self.state.watches.values():
            if {f"{module}.{short}", f"{module}.all"} & set(watch.events):
                self._outbox.put_nowait((watch, {
                    "server_time": int(time.time() * 1000), "query_params": {},
                    "module": module, "resource_uri": f"{API}/{module}", "ids": [record_id],
                    "affected_fields": [], "operation": operation,
                    "channel_id": watch.channel_id, "token": watch.token}))

    async def _notifier(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self._deliver_notifications(), name="crm-sim-notify")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _deliver_notifications(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                watch, body = await self._outbox.get()
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.post(watch.notify_url, json=body) as response:
                        body["delivered_status"] = response.status
                self.notifications_sent.append(body)
                self._outbox.task_done()

    async def settled(self) -> None:
        await self._outbox.join()

    async def sim_state(self, request: web.Request) -> web.Response:
        return web.json_response({
            "records": {m: len(r) for m, r in self.state.records.items()},
            "notes": len(self.state.notes), "attachments": len(self.state.attachments),
            "watches": len(self.state.watches), "credits_left": self.credits_left,
            "notifications_sent": len(self.notifications_sent)})


def _token(offset: int) -> str:
    return f"pt{offset:08x}"


def _token_offset(token: str) -> int:
    if not re.fullmatch(r"pt[0-9a-f]{8}", token):
        raise CrmError(400, "INVALID_DATA", "invalid page_token", {"param_name": "page_token"})
    return int(token[2:], 16)


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return parsedate_to_datetime(value)


def _in_an_hour() -> str:
    return datetime.fromtimestamp(time.time() + 3600, UTC).replace(microsecond=0).isoformat()


def _criteria(criteria: str, record: dict[str, Any]) -> bool:
    """``(Field:operator:value)`` groups joined by and/or (left to right, as written)."""
    groups = re.findall(r"\((\w+):(\w+):([^)]*)\)", criteria)
    if not groups:
        raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                       {"reason": "criteria is malformed"})
    joins = re.findall(r"\)\s*(and|or)\s*\(", criteria, re.I)
    result = _match(record, *groups[0])
    for join, group in zip(joins, groups[1:], strict=False):
        matched = _match(record, *group)
        result = (result and matched) if join.lower() == "and" else (result or matched)
    return result


def _match(record: dict[str, Any], field_name: str, operator: str, value: str) -> bool:
    actual = str(record.get(field_name, ""))
    match operator:
        case "equals":
            return value.lower() in actual.lower()  # Zoho's text "equals" behaves like contains
        case "not_equal":
            return actual.lower() != value.lower()
        case "starts_with":
            return actual.lower().startswith(value.lower())
        case "in":
            return actual in value.split(",")
    raise CrmError(400, "INVALID_QUERY", "invalid query formed", {"operator": operator})
