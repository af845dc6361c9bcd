"""Typed async client for Zoho CRM v8: metadata, records (with conflict-safe updates),
search, COQL, counts, deleted records, notes, attachments, related lists and notification
channels. Zoho timestamps carry the org's offset: read them with ``parse_zoho_time``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import aiohttp
import msgspec

from adapters.http import (
    Answer,
    AuthProvider,
    Budget,
    Outcome,
    RemoteError,
    Transport,
    Verdict,
    default_classifier,
)

BATCH_LIMIT = 100
PAGE_LIMIT = 200
COQL_PAGE = 2000  # rows per COQL call (LIMIT's maximum)
COQL_REACH = 100_000  # LIMIT + OFFSET may reach this far, no further
DEFAULT_ATTACHMENT_CAP = 10 * 1024 * 1024
NOTE_FIELDS = ("Note_Title", "Note_Content", "Parent_Id", "Owner", "Created_Time",
               "Modified_Time", "Created_By", "Modified_By")
ATTACHMENT_FIELDS = ("File_Name", "Size", "Parent_Id", "Owner", "Created_Time",
                     "Modified_Time")
_LIMIT_CLAUSE = re.compile(r"\b(limit|offset)\b\s+\d", re.IGNORECASE)


class ZohoCrmError(RemoteError):
    def __init__(self, message: str, *, status: int | None, outcome: Outcome, code: str,
                 details: dict[str, Any]) -> None:
        super().__init__("zoho_crm", message, status=status, outcome=outcome)
        self.code = code
        self.details = details


class ZohoCrmConflict(ZohoCrmError):
    """An ``If-Unmodified-Since`` update refused: the record changed after that instant."""


def parse_zoho_time(text: str) -> datetime:
    """A Zoho timestamp (``2026-01-05T03:00:00-07:00``, the org's offset) → an aware
    datetime. ValueError for text without an offset: Zoho never sends one, and guessing
    the zone would shift the instant."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"Zoho timestamp without an offset: {text!r}")
    return moment


def zoho_instant(moment: datetime) -> str:
    """An aware datetime as Zoho reads it in headers and queries (seconds, offset)."""
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime: Zoho compares instants")
    return moment.replace(microsecond=0).isoformat()


class _Error(msgspec.Struct):
    code: str = ""
    message: str = ""
    details: dict[str, Any] = {}


def crm_error(answer: Answer, outcome: Outcome) -> ZohoCrmError:
    try:
        body = msgspec.json.decode(answer.body, type=_Error)
    except (msgspec.DecodeError, msgspec.ValidationError):
        body = _Error(message=answer.body[:200].decode("utf-8", "replace"))
    text = f"{body.code}: {body.message}" if body.code else body.message
    if outcome is Outcome.AUTH:
        text = f"connection needs attention ({text})"
    kind = ZohoCrmConflict if answer.status == 412 else ZohoCrmError
    return kind(text or f"HTTP {answer.status}", status=answer.status, outcome=outcome,
                code=body.code, details=body.details)


def crm_classifier(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """Zoho reports throttling as ``TOO_MANY_REQUESTS`` (HTTP 429)."""
    if status == 429 or b'"TOO_MANY_REQUESTS"' in body:
        return Verdict(Outcome.RATE_LIMITED, default_classifier(429, headers, b"").retry_after)
    return default_classifier(status, headers, body)


class RecordResult(msgspec.Struct, frozen=True):
    """One record's outcome in a batch write, in input order."""

    status: str
    code: str
    message: str
    details: dict[str, Any] = {}
    action: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def id(self) -> str | None:
        return self.details.get("id")


class CrmAttachment(msgspec.Struct, frozen=True):
    id: str
    File_Name: str
    Size: str = "0"

    @property
    def size(self) -> int:
        return int(self.Size or 0)


class DeletedRecord(msgspec.Struct, frozen=True):
    """An entry of ``/{module}/deleted``: ``type`` is ``recycle`` or ``permanent``."""

    id: str
    deleted_time: datetime
    type: str = "recycle"
    display_name: str | None = None
    deleted_by: dict[str, Any] | None = None
    created_by: dict[str, Any] | None = None


class _Deleted(msgspec.Struct):
    data: list[DeletedRecord] = []
    info: dict[str, Any] = {}


class _Page(msgspec.Struct):
    data: list[dict[str, Any]] = []
    info: dict[str, Any] = {}


class _Results(msgspec.Struct):
    data: list[RecordResult] = []


class ZohoCrmClient:
    def __init__(self, api_base: str, transport: Transport) -> None:
        self.api = f"{api_base.rstrip('/')}/crm/v8"
        self.transport = transport

    @classmethod
    def connect(cls, api_base: str, auth: AuthProvider, session: aiohttp.ClientSession,
                budget: Budget | None = None) -> ZohoCrmClient:
        return cls(api_base, Transport("zoho_crm", session, auth=auth, budget=budget,
                                       classifier=crm_classifier, error_factory=crm_error))

    async def _call(self, method: str, path: str, *, body: Any = None, safe: bool | None = None,
                    params: Mapping[str, str] | None = None,
                    headers: Mapping[str, str] | None = None,
                    expect: tuple[int, ...] = ()) -> Answer:
        data = msgspec.json.encode(body) if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})} if data else headers
        return await self.transport.request(method, f"{self.api}{path}", safe=safe,
                                            params=params, data=data, headers=sent,
                                            expect=expect)

    # -- metadata ---------------------------------------------------------------------------
    async def modules(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/settings/modules")).json()["modules"]

    async def fields(self, module: str) -> list[dict[str, Any]]:
        answer = await self._call("GET", "/settings/fields", params={"module": module})
        return answer.json()["fields"] if answer.status == 200 else []

    async def org(self) -> dict[str, Any]:
        return (await self._call("GET", "/org")).json()["org"][0]

    # -- records ----------------------------------------------------------------------------
    async def records(self, module: str, fields: Sequence[str], *,
                      modified_since: datetime | None = None, sort_by: str = "Modified_Time",
                      sort_order: str = "asc", per_page: int = PAGE_LIMIT,
                      ) -> AsyncIterator[dict[str, Any]]:
        """Every record (optionally only those modified since a moment), following
        ``page`` and then ``page_token`` past the 2000-record discrete-paging limit."""
        headers = {"If-Modified-Since": zoho_instant(modified_since)} if modified_since else {}
        params = {"fields": ",".join(fields), "per_page": str(min(per_page, PAGE_LIMIT)),
                  "sort_by": sort_by, "sort_order": sort_order}
        page, token = 1, None
        while True:
            query = {**params, **({"page_token": token} if token else {"page": str(page)})}
            answer = await self._call("GET", f"/{module}", params=query, headers=headers,
                                      expect=(204, 304))
            if answer.status in (204, 304):
                return
            body = msgspec.json.decode(answer.body, type=_Page)
            for record in body.data:
                yield record
            if not body.info.get("more_records"):
                return
            token = body.info.get("next_page_token")
            page += 1

    async def record(self, module: str, record_id: str) -> dict[str, Any] | None:
        answer = await self._call("GET", f"/{module}/{record_id}", expect=(204,))
        return None if answer.status == 204 else answer.json()["data"][0]

    async def update_one(self, module: str, record_id: str, fields: dict[str, Any], *,
                         unmodified_since: datetime | None = None) -> RecordResult:
        """Update one record; with ``unmodified_since`` Zoho refuses (``ZohoCrmConflict``)
        when the record changed after that instant, and nothing is written."""
        headers = {"If-Unmodified-Since": zoho_instant(unmodified_since)} \
            if unmodified_since else None
        answer = await self._call("PUT", f"/{module}/{record_id}", headers=headers,
                                  body={"data": [fields], "trigger": []}, expect=(207, 400))
        (result,) = _results(answer)
        return result

    async def count(self, module: str) -> int:
        return int((await self._call("GET", f"/{module}/actions/count")).json()["count"])

    async def deleted(self, module: str, *, since: datetime | None = None,
                      kind: str = "all") -> list[DeletedRecord]:
        """Deleted records (``kind``: all, recycle or permanent), every page, newest first;
        with ``since`` only those deleted after that instant."""
        headers = {"If-Modified-Since": zoho_instant(since)} if since else None
        found: list[DeletedRecord] = []
        page = 1
        while True:
            answer = await self._call("GET", f"/{module}/deleted", headers=headers,
                                      params={"type": kind, "page": str(page),
                                              "per_page": str(PAGE_LIMIT)},
                                      expect=(204, 304))
            if answer.status in (204, 304):
                return found
            body = msgspec.json.decode(answer.body, type=_Deleted)
            found.extend(body.data)
            if not body.info.get("more_records"):
                return found
            page += 1

    async def coql(self, query: str) -> list[dict[str, Any]]:
        """Every row of a COQL ``select … from … where …`` (without LIMIT/OFFSET: the
        client pages with them, up to Zoho's reach of 100,000 rows)."""
        if _LIMIT_CLAUSE.search(query):
            raise ValueError("leave LIMIT/OFFSET out of the query: coql() pages by itself")
        rows: list[dict[str, Any]] = []
        for offset in range(0, COQL_REACH, COQL_PAGE):
            answer = await self._call("POST", "/coql", safe=True, expect=(204,), body={
                "select_query": f"{query.strip()} limit {offset}, {COQL_PAGE}"})
            if answer.status == 204:
                return rows
            body = msgspec.json.decode(answer.body, type=_Page)
            rows.extend(body.data)
            if not body.info.get("more_records"):
                return rows
        raise ZohoCrmError(f"COQL reaches at most {COQL_REACH} rows; narrow the where clause",
                           status=None, outcome=Outcome.PERMANENT, code="LIMIT_EXCEEDED",
                           details={"limit": COQL_REACH})

    async def insert(self, module: str, rows: Sequence[dict[str, Any]]) -> list[RecordResult]:
        return await self._batched("POST", f"/{module}", rows, {"trigger": []})

    async def update(self, module: str, rows: Sequence[dict[str, Any]]) -> list[RecordResult]:
        return await self._batched("PUT", f"/{module}", rows, {"trigger": []})

    async def upsert(self, module: str, rows: Sequence[dict[str, Any]],
                     duplicate_check_fields: Sequence[str] = ()) -> list[RecordResult]:
        extra: dict[str, Any] = {"trigger": []}
        if duplicate_check_fields:
            extra["duplicate_check_fields"] = list(duplicate_check_fields)
        return await self._batched("POST", f"/{module}/upsert", rows, extra, safe=True)

    async def _batched(self, method: str, path: str, rows: Sequence[dict[str, Any]],
                       extra: dict[str, Any], safe: bool = False) -> list[RecordResult]:
        results: list[RecordResult] = []
        for offset in range(0, len(rows), BATCH_LIMIT):
            body = {"data": list(rows[offset:offset + BATCH_LIMIT]), **extra}
            # Per-record failures come back as 400/207 with one result per input row.
            answer = await self._call(method, path, body=body, safe=safe, expect=(207, 400))
            results.extend(_results(answer))
        return results

    async def delete(self, module: str, ids: Sequence[str]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for offset in range(0, len(ids), BATCH_LIMIT):
            chunk = ",".join(ids[offset:offset + BATCH_LIMIT])
            results.extend(_results(await self._call("DELETE", f"/{module}",
                                                     params={"ids": chunk},
                                                     expect=(207, 400))))
        return results

    async def search(self, module: str, *, criteria: str | None = None, word: str | None = None,
                     email: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("criteria", criteria), ("word", word), ("email", email))
                  if v}
        if len(params) != 1:
            raise ValueError("give exactly one of criteria, word, email")
        if (word or email) and len(word or email or "") < 2:
            raise ValueError("search needs at least 2 characters")
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = await self._call("GET", f"/{module}/search",
                                      params={**params, "page": str(page)}, expect=(204,))
            if answer.status == 204:
                return found
            body = msgspec.json.decode(answer.body, type=_Page)
            found.extend(body.data)
            if not body.info.get("more_records"):
                return found
            page += 1

    # -- notes ------------------------------------------------------------------------------
    async def notes(self, module: str, record_id: str,
                    fields: Sequence[str] = NOTE_FIELDS) -> list[dict[str, Any]]:
        answer = await self._call("GET", f"/{module}/{record_id}/Notes", expect=(204,),
                                  params={"fields": ",".join(fields)})
        return [] if answer.status == 204 else answer.json()["data"]

    async def note(self, note_id: str) -> dict[str, Any] | None:
        answer = await self._call("GET", f"/Notes/{note_id}", expect=(204,))
        return None if answer.status == 204 else answer.json()["data"][0]

    async def add_note(self, module: str, record_id: str, content: str,
                       title: str = "") -> str:
        row = {"Note_Content": content, **({"Note_Title": title} if title else {}),
               "Parent_Id": {"id": record_id, "module": {"api_name": module}}}
        (result,) = _results(await self._call("POST", "/Notes", body={"data": [row]},
                                              expect=(400,)))
        return _id_or_raise(result)

    async def update_note(self, note_id: str, content: str, title: str = "") -> None:
        row = {"Note_Content": content, **({"Note_Title": title} if title else {})}
        await self._call("PUT", f"/Notes/{note_id}", body={"data": [row]})

    async def delete_note(self, note_id: str) -> None:
        await self._call("DELETE", f"/Notes/{note_id}")

    # -- attachments ------------------------------------------------------------------------
    async def attachments(self, module: str, record_id: str) -> list[CrmAttachment]:
        answer = await self._call("GET", f"/{module}/{record_id}/Attachments", expect=(204,),
                                  params={"fields": ",".join(ATTACHMENT_FIELDS)})
        if answer.status == 204:
            return []
        return msgspec.convert(answer.json()["data"], list[CrmAttachment])

    async def upload_attachment(self, module: str, record_id: str, filename: str,
                                open_stream: Callable[[], Any], *, size: int,
                                cap: int = DEFAULT_ATTACHMENT_CAP) -> str:
        if size > cap:
            raise _too_large(filename, size, cap)

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", open_stream(), filename=filename)
            return data

        answer = await self.transport.request(
            "POST", f"{self.api}/{module}/{record_id}/Attachments", data=form, safe=False)
        return _id_or_raise(_results(answer)[0])

    async def download_attachment(self, module: str, record_id: str,
                                  attachment: CrmAttachment, *,
                                  cap: int = DEFAULT_ATTACHMENT_CAP,
                                  chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Stream the file; refuses before any transfer when the listed size is over ``cap``."""
        if attachment.size > cap:
            raise _too_large(attachment.File_Name, attachment.size, cap)
        url = f"{self.api}/{module}/{record_id}/Attachments/{attachment.id}"
        async with self.transport.stream("GET", url) as response:
            async for chunk in response.content.iter_chunked(chunk_size):
                yield chunk

    async def delete_attachment(self, module: str, record_id: str, attachment_id: str) -> None:
        await self._call("DELETE", f"/{module}/{record_id}/Attachments/{attachment_id}")

    # -- related lists ----------------------------------------------------------------------
    async def related_lists(self, module: str) -> list[dict[str, Any]]:
        """The related lists a record of ``module`` shows (``api_name``, ``display_label``,
        ``module``, ``visible``, ``sequence_number`` …)."""
        answer = await self._call("GET", "/settings/related_lists", params={"module": module})
        return list(answer.json().get("related_lists") or [])

    async def related(self, module: str, record_id: str, related_list: str,
                      fields: Sequence[str] = ()) -> list[dict[str, Any]]:
        """E.g. ``Stage_History``, ``Tasks``, ``Contact_Roles`` of a record."""
        params = {"fields": ",".join(fields)} if fields else None
        answer = await self._call("GET", f"/{module}/{record_id}/{related_list}",
                                  params=params, expect=(204,))
        return [] if answer.status == 204 else answer.json()["data"]

    # -- notification channels ----------------------------------------------------------------
    async def watch(self, channel_id: str, events: Sequence[str], notify_url: str,
                    token: str, expiry: datetime | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"channel_id": channel_id, "events": list(events),
                                "notify_url": notify_url, "token": token,
                                "return_affected_field_values": True}
        if expiry:
            item["channel_expiry"] = zoho_instant(expiry)
        return (await self._call("POST", "/actions/watch", body={"watch": [item]},
                                 safe=True)).json()["watch"][0]

    async def renew_watch(self, channel_id: str, expiry: datetime) -> None:
        await self._call("PATCH", "/actions/watch", safe=True, body={"watch": [
            {"channel_id": channel_id, "channel_expiry": zoho_instant(expiry)}]})

    async def unwatch(self, channel_ids: Sequence[str]) -> None:
        await self._call("DELETE", "/actions/watch",
                         params={"channel_ids": ",".join(channel_ids)})

    async def watches(self) -> list[dict[str, Any]]:
        answer = await self._call("GET", "/actions/watch", expect=(204,))
        return [] if answer.status == 204 else answer.json()["watch"]


def _results(answer: Answer) -> list[RecordResult]:
    return msgspec.json.decode(answer.body, type=_Results).data


def _id_or_raise(result: RecordResult) -> str:
    if not result.ok or result.id is None:
        raise ZohoCrmError(f"{result.code}: {result.message}", status=None,
                           outcome=Outcome.PERMANENT, code=result.code, details=result.details)
    return result.id


def _too_large(filename: str, size: int, cap: int) -> ZohoCrmError:
    return ZohoCrmError(f"{filename}: {size} bytes exceeds the {cap}-byte limit", status=None,
                        outcome=Outcome.PERMANENT, code="FILE_TOO_LARGE",
                        details={"size": size, "limit": cap})
