"""Normalised views of both sides and the last agreed state of a link."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

StatusCategory = Literal["new", "indeterminate", "done", ""]


class JiraStatus(msgspec.Struct, frozen=True):
    name: str
    category: StatusCategory = ""


class JiraSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One Jira issue as read just now; ``fields`` are raw API values by field id."""

    id: str
    key: str
    fields: dict[str, Any] = {}
    status: JiraStatus = JiraStatus("")
    updated: float = 0.0  # epoch seconds


class ZohoSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One Zoho CRM record or Projects task/issue; ``fields`` are raw values by API name."""

    id: str
    title: str
    url: str = ""
    fields: dict[str, Any] = {}
    status: str = ""  # the value of the SCI's status field ("" when not synced)
    status_closed: bool | None = None  # Projects statuses say whether they close the item
    modified: float = 0.0  # epoch seconds


class Base(msgspec.Struct, frozen=True, kw_only=True):
    """What both sides last agreed on, per mapping (canonical values) and for status.

    Persisted as JSON: every field has a default so older rows still decode.
    """

    fields: dict[str, Any] = {}
    jira_status: str = ""
    zoho_status: str = ""

    def with_fields(self, values: dict[str, Any]) -> Base:
        return msgspec.structs.replace(self, fields={**self.fields, **values})


EMPTY_BASE = Base()


def encode_base(base: Base) -> bytes:
    return msgspec.json.encode(base)


def decode_base(raw: bytes | None) -> Base | None:
    return None if raw is None else msgspec.json.decode(raw, type=Base)


class CommentMirror(msgspec.Struct, frozen=True, kw_only=True):
    """One comment of a link and the copy the bridge made of it on the other side.

    ``origin`` is the side the comment was written on; ``digest`` is of the origin's text
    when it was last copied (an edit shows as a different digest).
    """

    link_id: str
    origin: Literal["jira", "zoho"]
    origin_id: str
    mirror_id: str
    digest: str


class AttachmentMirror(msgspec.Struct, frozen=True, kw_only=True):
    """One file of a link and its copy on the other side.

    ``mirror_id`` is empty for a file that was skipped (too large): it is reported once,
    and copied after all if the cap is raised.
    """

    link_id: str
    origin: Literal["jira", "zoho"]
    origin_id: str
    mirror_id: str
    sha256: str = ""
    name: str = ""
    size: int = 0
