"""What the engine needs from a Zoho source, whichever product it is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import IO, Any, Protocol, runtime_checkable

import msgspec

from bridge.sync.attachments import AttachmentView
from bridge.sync.comments import CommentView
from bridge.sync.convert import FieldKind
from bridge.sync.model import ZohoSnapshot
from bridge.sync.status import ZohoStatus


class SideError(Exception):
    """A problem with the data or set-up of one side that retrying will not fix."""


class ConnectionsPending(SideError):
    """The daemon has not finished setting up its connections yet (a normal start-up
    state, not a fault)."""


class StaleWrite(Exception):
    """A conditional write was refused: the target changed after we read it. The item
    gets a fresh pass instead of a retry of the stale write."""


class ZohoMetadata(msgspec.Struct, frozen=True):
    zone: str
    statuses: tuple[ZohoStatus, ...]
    kinds: dict[str, FieldKind]  # field API name → kind


@runtime_checkable
class AttachmentSide(Protocol):
    """Files of one item (a Jira issue key, a Zoho record id), moved as streams."""

    async def attachments(self, item: str) -> list[AttachmentView]: ...

    def download_attachment(self, item: str, file: AttachmentView,
                            cap: int) -> AsyncIterator[bytes]:
        """The file's bytes in chunks; refuses before any transfer when over ``cap``."""

    async def upload_attachment(self, item: str, name: str,
                                open_stream: Callable[[], IO[bytes]], size: int,
                                cap: int) -> str:
        """Attach a file read from ``open_stream()`` (fresh per attempt); its new id."""

    async def delete_attachment(self, item: str, attachment_id: str) -> None:
        """Delete it; one already gone is fine."""


class AssociatedItem(msgspec.Struct, frozen=True, kw_only=True):
    """One related record as the issue panel lists it, with where to open it in Zoho."""

    id: str
    title: str
    subtitle: str = ""
    url: str = ""


class AssociatedGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One related list of a record (stage history, open tasks, comments …)."""

    name: str
    items: list[AssociatedItem] = []


class ZohoSide(Protocol):
    system: str
    # Attaching a file modifies the record, so a poll of changed records finds it; when
    # False the poll compares every linked record's file list instead.
    files_modify_record: bool

    async def metadata(self) -> ZohoMetadata: ...

    async def snapshot(self, record_id: str) -> ZohoSnapshot | None: ...

    async def changed_since(self, since: float) -> list[ZohoSnapshot]:
        """Records modified at or after ``since`` (epoch s), oldest first."""

    async def deleted_since(self, since: float) -> list[str]:
        """Ids of records Zoho itself lists as deleted at or after ``since``."""

    async def update(self, record_id: str, fields: Mapping[str, Any],
                     unmodified_since: float) -> None:
        """Write ``fields``; ``StaleWrite`` when the record changed after
        ``unmodified_since`` (where the API can tell)."""

    async def set_status(self, record_id: str, status: str) -> None: ...

    async def link_note(self, record_id: str, text: str, marker: str) -> None:
        """Write ``text`` as a note/comment unless one containing ``marker`` exists."""

    def record_url(self, record_id: str) -> str: ...

    # comments (CRM notes, Projects comments); texts are markup (``adapters.jira.adf``)
    comment_label: str  # how copies in Jira name a comment of this side

    async def comments(self, record_id: str) -> list[CommentView]: ...

    async def commented_since(self, since: float) -> set[str]:
        """Records whose comments changed at or after ``since`` (where the API lists them
        apart from the record's own changes)."""

    async def find_comment(self, record_id: str, marker: str) -> str | None:
        """The id of a comment containing ``marker`` (a copy an earlier attempt wrote)."""

    async def add_comment(self, record_id: str, header: str, text: str) -> str: ...

    async def edit_comment(self, record_id: str, comment_id: str, header: str,
                           text: str) -> None: ...

    async def delete_comment(self, record_id: str, comment_id: str) -> None:
        """Delete it; one already gone is fine."""

    async def search(self, text: str, limit: int) -> list[ZohoSnapshot]:
        """The record with id ``text`` first (if any), then records matching ``text``."""

    async def associated(self, record_id: str) -> list[AssociatedGroup]:
        """The record's related lists (read-only, for display)."""


def kind_for_zoho_type(data_type: str) -> FieldKind:
    """Zoho CRM ``data_type`` → the conversion kind."""
    return _ZOHO_TYPES.get(data_type, "text")


_ZOHO_TYPES: dict[str, FieldKind] = {
    "picklist": "picklist", "multiselectpicklist": "multiselect",
    "date": "date", "datetime": "datetime", "integer": "number", "double": "number",
    "currency": "number", "decimal": "number", "bigint": "number", "percent": "number",
    "boolean": "boolean", "ownerlookup": "user", "userlookup": "user", "lookup": "lookup",
}


def size_text(size: int) -> str:
    """A file size as people read it (``812 B``, ``9.5 KB``)."""
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B"


def requested_fields(*groups: Sequence[str]) -> list[str]:
    return sorted({name for group in groups for name in group if name})


def first_matches(exact: ZohoSnapshot | None, found: Sequence[ZohoSnapshot],
                  limit: int) -> list[ZohoSnapshot]:
    """``exact`` (a lookup by id) first, then the other matches, at most ``limit`` in all."""
    ordered = [exact] if exact is not None else []
    ordered += [s for s in found if exact is None or s.id != exact.id]
    return ordered[:limit]
