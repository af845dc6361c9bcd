"""Typed views of Zoho Projects V3 payloads, holding only the fields the bridge uses.

Tasks and issues also keep the whole record in ``raw``: field mappings read arbitrary
fields from it, custom fields included (they appear as top-level keys by ``api_name``).
"""

from __future__ import annotations

from typing import Any

import msgspec


class ProjectRef(msgspec.Struct, frozen=True):
    portal_id: str
    project_id: str


class RecordRef(msgspec.Struct, frozen=True):
    """Where a task or issue lives; every record route needs the project."""

    portal_id: str
    project_id: str
    kind: str  # "tasks" or "issues"
    id: str

    @property
    def project(self) -> ProjectRef:
        return ProjectRef(self.portal_id, self.project_id)


class Ref(msgspec.Struct, frozen=True):
    id: str
    name: str = ""


class User(msgspec.Struct, frozen=True):
    zpuid: str = ""
    zuid: str | int | None = None
    name: str = ""
    email: str = ""


class Status(msgspec.Struct, frozen=True):
    id: str
    name: str = ""
    color_hexcode: str = ""
    # None when the endpoint that listed it does not say (global statuses).
    is_closed_type: bool | None = None


class Portal(msgspec.Struct, frozen=True):
    id: str
    portal_name: str = ""
    org_name: str = ""
    timezone: str = ""
    is_default_portal: bool = False


class Project(msgspec.Struct, frozen=True):
    id: str
    name: str
    prefix: str = ""
    status: Status | None = None
    modified_time: str = ""


class WorkItem(msgspec.Struct, frozen=True):
    """A task or an issue (``kind`` says which: ``tasks`` or ``issues``)."""

    id: str
    name: str
    last_modified_time: str
    created_time: str = ""
    prefix: str = ""
    description: str = ""
    status: Status | None = None
    project: Ref | None = None
    kind: str = ""
    raw: dict[str, Any] = {}


class Comment(msgspec.Struct, frozen=True):
    id: str
    comment: str
    created_time: str = ""
    last_modified_time: str = ""
    added_by: User | None = None


class Attachment(msgspec.Struct, frozen=True):
    id: str
    name: str
    third_party_file_id: str
    type: str = ""
    size: int = 0
    created_time: str = ""


class Milestone(msgspec.Struct, frozen=True):
    id: str
    name: str
    start_date: str | None = None
    end_date: str | None = None
    status: Status | None = None
    owner: User | None = None


class TimeLog(msgspec.Struct, frozen=True):
    id: str
    date: str
    hours: str = ""
    notes: str = ""
    bill_status: str = ""
    owner: User | None = None
    module: dict[str, Any] = {}


class Related(msgspec.Struct, frozen=True):
    """What the issue panel shows under a linked task or issue."""

    associated: list[WorkItem]
    comments: list[Comment]
    followers: list[User]
    attachments: list[Attachment]


def work_item(raw: dict[str, Any], kind: str) -> WorkItem:
    item = msgspec.convert({k: v for k, v in raw.items() if k not in ("kind", "raw")}, WorkItem)
    return msgspec.structs.replace(item, kind=kind, raw=raw)
