"""A Zoho CRM record's related lists as the issue panel shows them: which fields to ask
for per list and how a row becomes an item (title, subtitle, where to open it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bridge.sides.base import AssociatedItem, size_text

Row = Mapping[str, Any]
Opener = Callable[[str, str], str]  # (module, record id) → the record's page in Zoho

# related list → the group name shown instead of Zoho's label
GROUP_NAMES = {"Tasks": "Open tasks"}
DONE_TASK = "Completed"
_FIELDS = {
    "Stage_History": ("Stage", "Amount", "Modified_Time", "Modified_By"),
    "Contact_Roles": ("Full_Name", "Email", "Contact_Role"),
    "Tasks": ("Subject", "Status", "Due_Date"),
    "Notes": ("Note_Title", "Note_Content", "Created_By", "Created_Time"),
    "Attachments": ("File_Name", "Size", "Created_Time"),
}


def fields_of(related_list: str, title_fields: tuple[str, ...]) -> tuple[str, ...]:
    return _FIELDS.get(related_list, (*title_fields, "Modified_Time"))


def shown(related_list: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the panel lists: open tasks only."""
    if related_list == "Tasks":
        return [r for r in rows if r.get("Status") != DONE_TASK]
    return rows


def item(related_list: str, row: Row, *, parent_url: str, module: str, open_url: Opener,
         title_fields: tuple[str, ...]) -> AssociatedItem:
    """Rows that have no page of their own (stage history, notes, attachments) open the
    parent record."""
    row_id = str(row.get("id", ""))
    if related_list == "Stage_History":
        return AssociatedItem(id=row_id, title=_text(row.get("Stage")) or "—",
                              subtitle=_joined(row.get("Modified_Time"), row.get("Amount"),
                                               _name(row.get("Modified_By"))),
                              url=parent_url)
    if related_list == "Contact_Roles":
        return AssociatedItem(id=row_id, title=_text(row.get("Full_Name")) or row_id,
                              subtitle=_joined(_name(row.get("Contact_Role")), row.get("Email")),
                              url=open_url("Contacts", row_id))
    if related_list == "Tasks":
        return AssociatedItem(id=row_id, title=_text(row.get("Subject")) or row_id,
                              subtitle=_joined(row.get("Status"), _due(row.get("Due_Date"))),
                              url=open_url("Tasks", row_id))
    if related_list == "Notes":
        content = _text(row.get("Note_Content"))
        return AssociatedItem(id=row_id,
                              title=_text(row.get("Note_Title")) or content.split("\n")[0],
                              subtitle=_joined(_name(row.get("Created_By")),
                                               row.get("Created_Time")),
                              url=parent_url)
    if related_list == "Attachments":
        return AssociatedItem(id=row_id, title=_text(row.get("File_Name")) or row_id,
                              subtitle=_joined(_size(row.get("Size")), row.get("Created_Time")),
                              url=parent_url)
    title = next((_text(row[f]) for f in title_fields if row.get(f)), row_id)
    return AssociatedItem(id=row_id, title=title, subtitle=_text(row.get("Modified_Time")),
                          url=open_url(module, row_id))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _name(value: Any) -> str:
    return _text(value.get("name")) if isinstance(value, Mapping) else _text(value)


def _due(value: Any) -> str:
    return f"due {value}" if value else ""


def _size(value: Any) -> str:
    try:
        size = int(value)
    except (TypeError, ValueError):
        return ""
    return size_text(size)


def _joined(*parts: Any) -> str:
    return " · ".join(_text(p) for p in parts if p not in (None, ""))
