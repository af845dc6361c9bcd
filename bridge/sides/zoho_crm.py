"""The Zoho CRM side of one SCI: one module's records, notes and field metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from adapters.zoho.crm.client import (
    CrmAttachment,
    ZohoCrmClient,
    ZohoCrmConflict,
    ZohoCrmError,
    parse_zoho_time,
)
from bridge.sides import crm_related
from bridge.sides.base import (
    AssociatedGroup,
    SideError,
    StaleWrite,
    ZohoMetadata,
    first_matches,
    kind_for_zoho_type,
    requested_fields,
)
from bridge.sync.attachments import AttachmentView
from bridge.sync.comments import CommentView
from bridge.sync.model import ZohoSnapshot
from bridge.sync.status import ZohoStatus

# The field that names a record, per module (first one present wins).
TITLE_FIELDS = ("Subject", "Deal_Name", "Account_Name", "Campaign_Name", "Event_Title",
                "Product_Name", "Vendor_Name", "Price_Book_Name", "Solution_Title",
                "Appointment_Name", "Service_Name", "Full_Name", "Last_Name", "Name")


COPY_TITLE = "From Jira"
# A related list the API cannot read (a web-only list) answers one of these: leave it out.
UNREADABLE_LIST = ("NOT_SUPPORTED", "INVALID_URL_PATTERN")


class CrmSide:
    system = "crm"
    comment_label = "Zoho CRM note"
    files_modify_record = False

    def __init__(self, client: ZohoCrmClient, module: str, fields: Sequence[str],
                 status_field: str, web_url: str = "") -> None:
        self.client = client
        self.module = module
        self.status_field = status_field
        self._fields = requested_fields(fields, [status_field], TITLE_FIELDS,
                                        ["Modified_Time"])
        self._web = web_url.rstrip("/") or client.api.removesuffix("/crm/v8")

    async def metadata(self) -> ZohoMetadata:
        org = await self.client.org()
        described = await self.client.fields(self.module)
        kinds = {f["api_name"]: kind_for_zoho_type(str(f.get("data_type", "")))
                 for f in described}
        status = next((f for f in described if f["api_name"] == self.status_field), None)
        values = (status or {}).get("pick_list_values") or []
        statuses = tuple(ZohoStatus(str(v.get("display_value") or v.get("actual_value")))
                         for v in values)
        return ZohoMetadata(str(org.get("time_zone") or "UTC"), statuses, kinds)

    def record_url(self, record_id: str, module: str = "") -> str:
        return f"{self._web}/crm/tab/{module or self.module}/{record_id}"

    async def snapshot(self, record_id: str) -> ZohoSnapshot | None:
        record = await self.client.record(self.module, record_id)
        return None if record is None else self._snapshot(record)

    def _snapshot(self, record: Mapping[str, Any]) -> ZohoSnapshot:
        record_id = str(record["id"])
        title = next((str(record[f]) for f in TITLE_FIELDS if record.get(f)), "")
        modified = record.get("Modified_Time")
        status = record.get(self.status_field) if self.status_field else None
        return ZohoSnapshot(
            id=record_id, title=title, url=self.record_url(record_id), fields=dict(record),
            status=str(status) if status not in (None, "-None-") else "",
            modified=parse_zoho_time(modified).timestamp() if modified else 0.0)

    async def search(self, text: str, limit: int) -> list[ZohoSnapshot]:
        """The record whose id is ``text`` (when it is one), then records containing the word
        ``text`` (Zoho's word search, at least 2 characters)."""
        exact = await self.snapshot(text) if text.isdigit() else None
        found = [self._snapshot(r) for r in await self.client.search(self.module, word=text)]
        return first_matches(exact, found, limit)

    async def associated(self, record_id: str) -> list[AssociatedGroup]:
        """The module's visible related lists (from Zoho's related-list metadata), in
        Zoho's order."""
        lists = [entry for entry in await self.client.related_lists(self.module)
                 if entry.get("visible", True)]
        lists.sort(key=lambda entry: int(entry.get("sequence_number") or 0))
        groups = [await self._group(record_id, entry) for entry in lists]
        return [g for g in groups if g is not None]

    async def _group(self, record_id: str, entry: Mapping[str, Any]) -> AssociatedGroup | None:
        name = str(entry["api_name"])
        module = str((entry.get("module") or {}).get("api_name") or name)
        try:
            rows = await self.client.related(
                self.module, record_id, name, crm_related.fields_of(name, TITLE_FIELDS))
        except ZohoCrmError as exc:
            if exc.code in UNREADABLE_LIST:
                return None
            raise
        parent = self.record_url(record_id)
        items = [crm_related.item(name, row, parent_url=parent, module=module,
                                  open_url=lambda m, i: self.record_url(i, m),
                                  title_fields=TITLE_FIELDS)
                 for row in crm_related.shown(name, rows)]
        label = crm_related.GROUP_NAMES.get(name) or str(entry.get("display_label") or name)
        return AssociatedGroup(name=label, items=items)

    async def changed_since(self, since: float) -> list[ZohoSnapshot]:
        # Zoho keeps whole seconds and answers "modified after": step back one second and
        # let the engine drop what it has already seen.
        moment = datetime.fromtimestamp(since - 1, UTC).replace(microsecond=0)
        return [self._snapshot(r) async for r in
                self.client.records(self.module, self._fields, modified_since=moment)]

    async def deleted_since(self, since: float) -> list[str]:
        moment = datetime.fromtimestamp(since - 1, UTC)
        return [d.id for d in await self.client.deleted(self.module, since=moment)]

    async def update(self, record_id: str, fields: Mapping[str, Any],
                     unmodified_since: float) -> None:
        guard = datetime.fromtimestamp(unmodified_since, UTC) if unmodified_since else None
        try:
            result = await self.client.update_one(self.module, record_id, dict(fields),
                                                  unmodified_since=guard)
        except ZohoCrmConflict as exc:
            raise StaleWrite(f"{record_id} changed in Zoho CRM since it was read") from exc
        if not result.ok:
            raise SideError(f"Zoho CRM refused the update of {record_id}: {result.code} "
                            f"{result.message} {result.details}")

    async def set_status(self, record_id: str, status: str) -> None:
        await self.update(record_id, {self.status_field: status}, 0.0)

    async def watch(self, channel_id: str, notify_url: str, token: str, until: float) -> None:
        """Ask Zoho to call ``notify_url`` on every change in the module until ``until``."""
        expiry = datetime.fromtimestamp(until, UTC)
        await self.client.watch(channel_id, [f"{self.module}.all"], notify_url, token, expiry)

    async def link_note(self, record_id: str, text: str, marker: str) -> None:
        notes = await self.client.notes(self.module, record_id)
        if any(marker in str(n.get("Note_Content", "")) for n in notes):
            return
        await self.client.add_note(self.module, record_id, text, title="Linked to Jira")

    # -- notes as comments: plain text holding markup ----------------------------------------
    async def comments(self, record_id: str) -> list[CommentView]:
        return [CommentView(id=str(n["id"]), text=str(n.get("Note_Content") or ""),
                            author=str((n.get("Created_By") or {}).get("name", "")),
                            created=_time(n.get("Created_Time")))
                for n in await self.client.notes(self.module, record_id)]

    async def commented_since(self, since: float) -> set[str]:
        moment = datetime.fromtimestamp(since - 1, UTC).replace(microsecond=0)
        return {str(n["Parent_Id"]["id"]) async for n in
                self.client.records("Notes", ["Parent_Id", "Modified_Time"],
                                    modified_since=moment, sort_by="Modified_Time")
                if _module_of(n.get("Parent_Id")) == self.module}

    async def find_comment(self, record_id: str, marker: str) -> str | None:
        return next((str(n["id"]) for n in await self.client.notes(self.module, record_id)
                     if marker in str(n.get("Note_Content", ""))), None)

    async def add_comment(self, record_id: str, header: str, text: str) -> str:
        return await self.client.add_note(self.module, record_id, f"{header}\n\n{text}",
                                          title=COPY_TITLE)

    async def edit_comment(self, record_id: str, comment_id: str, header: str,
                           text: str) -> None:
        await _unless_gone(self.client.update_note(comment_id, f"{header}\n\n{text}",
                                                   title=COPY_TITLE))

    async def delete_comment(self, record_id: str, comment_id: str) -> None:
        await _unless_gone(self.client.delete_note(comment_id))

    # -- attachments -------------------------------------------------------------------------
    async def attachments(self, record_id: str) -> list[AttachmentView]:
        return [AttachmentView(id=a.id, name=a.File_Name, size=a.size)
                for a in await self.client.attachments(self.module, record_id)]

    def download_attachment(self, record_id: str, file: AttachmentView,
                            cap: int) -> AsyncIterator[bytes]:
        listed = CrmAttachment(id=file.id, File_Name=file.name, Size=str(file.size))
        return self.client.download_attachment(self.module, record_id, listed, cap=cap)

    async def upload_attachment(self, record_id: str, name: str,
                                open_stream: Callable[[], IO[bytes]], size: int,
                                cap: int) -> str:
        return await self.client.upload_attachment(self.module, record_id, name, open_stream,
                                                   size=size, cap=cap)

    async def delete_attachment(self, record_id: str, attachment_id: str) -> None:
        await _unless_gone(self.client.delete_attachment(self.module, record_id,
                                                         attachment_id))


async def _unless_gone(write: Awaitable[None]) -> None:
    """Run a note write; a note deleted meanwhile (Zoho: ``INVALID_DATA``) is left alone."""
    try:
        await write
    except ZohoCrmError as exc:
        if exc.code != "INVALID_DATA":
            raise


def _module_of(parent: Any) -> str:
    module = (parent or {}).get("module") if isinstance(parent, dict) else None
    return str(module.get("api_name", "")) if isinstance(module, dict) else str(module or "")


def _time(value: Any) -> float:
    return parse_zoho_time(str(value)).timestamp() if value else 0.0
