"""In-memory Zoho Projects data: one portal, its projects, tasks, issues and their children.

Ids are 19-digit strings from a counter (deterministic); every write stamps
``last_modified_time`` with a strictly increasing ISO-8601 UTC time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import V3Error, invalid_value, not_found

Record = dict[str, Any]
ID_PREFIX = 1_752_587_000_000_000_000  # 19-digit ids: prefix + counter
PRIORITIES = ("none", "low", "medium", "high")
MODULES = ("tasks", "issues")
_EPOCH = datetime.min.replace(tzinfo=UTC)
# Custom fields by api_name, per module: picklist values, or None for free text.
CUSTOM_FIELDS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "tasks": {"cf_billing_type": ("Billable", "Non Billable"), "cf_customer_ref": None},
    "issues": {"cf_billing_type": ("Billable", "Non Billable"),
               "cf_customer_impact": ("Low", "Medium", "High")},
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ref(item: Record) -> Record:
    return {"id": item["id"], "name": item["name"]}


@dataclass
class ProjectsState:
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    portal: Record = field(default_factory=dict)
    users: list[Record] = field(default_factory=list)
    projects: dict[str, Record] = field(default_factory=dict)
    tasklists: dict[str, list[Record]] = field(default_factory=dict)
    milestones: dict[str, list[Record]] = field(default_factory=dict)
    timelogs: dict[str, list[Record]] = field(default_factory=dict)
    statuses: dict[str, list[Record]] = field(default_factory=dict)
    records: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {module: {} for module in MODULES})
    comments: dict[str, list[Record]] = field(default_factory=dict)
    attachments: dict[str, list[Record]] = field(default_factory=dict)
    followers: dict[str, list[Record]] = field(default_factory=dict)
    associated: dict[str, set[str]] = field(default_factory=dict)  # task id -> issue ids
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name, type, bytes
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _keys: dict[str, Any] = field(default_factory=dict)
    _last_stamp: datetime = _EPOCH
    # Whether a comment change bumps its task's last_modified_time: unverified, so off
    # (the stricter assumption) unless switched on.
    comments_bump_task: bool = False

    # -- identity and time --------------------------------------------------------------------
    def new_id(self) -> str:
        return str(ID_PREFIX + next(self._ids))

    def stamp(self) -> str:
        moment = max(self.now(), self._last_stamp + timedelta(milliseconds=1))
        self._last_stamp = moment
        return iso(moment)

    def user(self, zpuid: str) -> Record:
        for user in self.users:
            if user["zpuid"] == zpuid:
                return user
        raise invalid_value("zpuid", f"No portal user with zpuid {zpuid}.")

    # -- lookups --------------------------------------------------------------------------------
    def project(self, project_id: str) -> Record:
        project = self.projects.get(project_id)
        if project is None:
            raise not_found("project")
        return project

    def record(self, module: str, project_id: str, record_id: str) -> Record:
        record = self.records[module].get(record_id)
        if record is None or record["project"]["id"] != project_id:
            raise not_found(module[:-1])
        return record

    def in_project(self, module: str, project_id: str) -> list[Record]:
        self.project(project_id)
        return [r for r in self.records[module].values() if r["project"]["id"] == project_id]

    def status(self, module: str, status_id: str) -> Record:
        for status in self.statuses[module]:
            if status["id"] == str(status_id):
                return status
        raise invalid_value("status", f"Status {status_id} does not exist.")

    def touch(self, record: Record) -> None:
        record["last_modified_time"] = self.stamp()

    # -- writes ---------------------------------------------------------------------------------
    def create(self, module: str, project_id: str, body: Record, author: Record) -> Record:
        project = self.project(project_id)
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise invalid_value("name", "name is mandatory.")
        serial = self._keys.setdefault(f"{project_id}/{module}", itertools.count(1))
        letter = "T" if module == "tasks" else "I"
        stamp = self.stamp()
        record: Record = {
            "id": self.new_id(), "prefix": f"{project['prefix']}-{letter}{next(serial)}",
            "name": "", "description": "", "status": self.statuses[module][0],
            "project": ref(project), "created_time": stamp, "last_modified_time": stamp,
            "created_by": author, "updated_by": author}
        record.update(self._defaults(module, project_id))
        self.apply(module, record, body)
        record["last_modified_time"] = stamp
        self.records[module][record["id"]] = record
        return record

    def _defaults(self, module: str, project_id: str) -> Record:
        if module == "issues":
            return {"flag": "Internal", "severity": None, "classification": None,
                    "assignee": None, "due_date": None}
        general = self.tasklists[project_id][0]
        return {"priority": "none", "tasklist": ref(general),
                "milestone": {"id": general["milestone_id"], "name": "None"},
                "owners_and_work": {"work_type": "work_hours", "total_work": "0:00",
                                    "unit": "hours", "owners": []},
                "start_date": None, "end_date": None, "completion_percentage": 0,
                "is_completed": False, "depth": 0}

    def apply(self, module: str, record: Record, body: Record) -> None:
        """Validate and apply a create/PATCH body (only the keys it carries)."""
        if "custom_status" in body:
            raise invalid_value("custom_status", "Use status with an id.")
        for key, value in body.items():
            self._set(module, record, key, value)
        self.touch(record)

    def _set(self, module: str, record: Record, key: str, value: Any) -> None:
        match key:
            case "name" | "description" if isinstance(value, str):
                record[key] = value
            case "status":
                status = self.status(module, _ref_id(key, value))
                record["status"] = status
                if module == "tasks":
                    record["is_completed"] = bool(status["is_closed_type"])
            case "priority" if module == "tasks":
                if str(value).lower() not in PRIORITIES:
                    raise invalid_value("priority", "priority must be none, low, medium or high.")
                record["priority"] = str(value).lower()
            case "tasklist" if module == "tasks":
                lists = self.tasklists[record["project"]["id"]]
                wanted = _ref_id(key, value)
                found = next((t for t in lists if t["id"] == wanted), None)
                if found is None:
                    raise invalid_value("tasklist", f"Task list {wanted} does not exist.")
                record["tasklist"] = ref(found)
            case "owners_and_work" if module == "tasks":
                if not isinstance(value, dict):
                    raise V3Error(400, "JSON_PARSE_ERROR", "owners_and_work must be an object.",
                                  field_name=key)
                owners = [self.user(_ref_id("zpuid", o, "zpuid")) for o in value.get("owners", [])]
                record["owners_and_work"] = {**record["owners_and_work"], "owners": owners}
            case "assignee" if module == "issues":
                record["assignee"] = self.user(_ref_id(key, value, "zpuid")) if value else None
            case "start_date" | "end_date" | "due_date" | "completion_percentage" | "flag":
                record["end_date" if key == "due_date" and module == "tasks" else key] = value
            case "severity" | "classification" if module == "issues":
                record[key] = {"id": _ref_id(key, value), "name": str(value.get("name", ""))}
            case _ if key.startswith("cf_"):
                record[key] = _custom_value(module, key, value)
            case _:
                pass  # unknown keys are ignored, as the service does for read-only fields

    def delete(self, module: str, project_id: str, record_id: str) -> None:
        self.record(module, project_id, record_id)
        del self.records[module][record_id]
        for children in (self.comments, self.attachments, self.followers):
            children.pop(record_id, None)

    def add_comment(self, record: Record, html: str, author: Record) -> Record:
        stamp = self.stamp()
        comment = {"id": self.new_id(), "comment": html, "created_time": stamp,
                   "last_modified_time": stamp, "added_by": author, "attachments": []}
        self.comments.setdefault(record["id"], []).append(comment)
        self.comment_changed(record)
        return comment

    def comment_changed(self, record: Record) -> None:
        if self.comments_bump_task:
            self.touch(record)

    def comment(self, record: Record, comment_id: str) -> Record:
        for comment in self.comments.get(record["id"], []):
            if comment["id"] == comment_id:
                return comment
        raise not_found("comment")

    def store_file(self, name: str, content_type: str, content: bytes) -> str:
        file_id = f"wd{self.new_id()}"
        self.files[file_id] = (name, content_type, content)
        return file_id

    def associate(self, record: Record, file_id: str, author: Record) -> Record:
        if file_id not in self.files:
            raise invalid_value("attachment_ids", f"Unknown file {file_id}.")
        name, content_type, content = self.files[file_id]
        attachment = {"id": self.new_id(), "name": name, "type": content_type,
                      "size": len(content), "third_party_file_id": file_id,
                      "created_time": self.stamp(), "added_by": author}
        self.attachments.setdefault(record["id"], []).append(attachment)
        self.touch(record)
        return attachment

    def dissociate(self, record: Record, attachment_id: str) -> None:
        """The file leaves the task/issue; it stays in WorkDrive, as in Zoho."""
        kept = [a for a in self.attachments.get(record["id"], []) if a["id"] != attachment_id]
        if len(kept) == len(self.attachments.get(record["id"], [])):
            raise not_found("attachment")
        self.attachments[record["id"]] = kept
        self.touch(record)


def _ref_id(key: str, value: Any, id_key: str = "id") -> str:
    if isinstance(value, dict) and value.get(id_key):
        return str(value[id_key])
    raise invalid_value(key, f"{key} must be an object with {id_key}.")


def _custom_value(module: str, key: str, value: Any) -> Any:
    fields = CUSTOM_FIELDS[module]
    if key not in fields:
        raise invalid_value(key, f"Unknown custom field {key}.")
    options = fields[key]
    if options is not None and value not in (*options, None, ""):
        raise invalid_value(key, f"{value!r} is not an option of {key}.")
    return value
