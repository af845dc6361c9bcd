"""The SCI form's values: read from a form or an SCI, turned into an SCI definition, and
the form key an ``InvalidSci`` is about.

Inputs are named by the definition's dotted keys (``zoho.module``, ``mappings[0].owner``,
``rule.value``), so a validation error's key names the input at fault.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from multidict import MultiMapping

from bridge.admin.sci_edits import InvalidSci
from bridge.sci import SciConfig

Values = dict[str, Any]  # form key → text (or a list of texts for the multi-valued keys)

MODES: dict[str, tuple[str, str]] = {
    "display": ("Display", "Show a Zoho record's fields on linked Jira issues; nothing is "
                           "written to either side."),
    "one_way": ("One-way", "Zoho owns the record: its fields, status and comments flow "
                           "into Jira."),
    "two_way": ("Two-way", "Both sides edit: every mapped field follows the latest change "
                           "either way."),
    "custom": ("Custom", "Choose per field who owns it: Jira, Zoho or both."),
}
MB = 1024 * 1024
NEW: Values = {"zoho.system": "crm", "poll_interval": "30", "attachment_max_mb": "10"}
MULTI = ("jira_projects", "preview_fields")
CHECKS = ("auto_create", "status_sync", "comments", "comments_restricted", "attachments",
          "attachment_deletes", "associated_records", "rule.create_when_not_met")
TEXTS = ("id", "name", "mode", "jira_issue_type", "zoho.system", "zoho.module",
         "zoho.portal_id", "zoho.project_id", "zoho.workdrive_folder", "rule.field",
         "rule.operator", "rule.value", "rule.status_when_met", "rule.status_when_not_met",
         "status_field", "poll_interval", "attachment_max_mb")
FORM_KEYS = frozenset((*TEXTS, *MULTI, *CHECKS))
MAPPING_KEY = re.compile(r"mappings\[(\d+)\]\.(jira|zoho|owner|type)")
ALIASES = {"attachment_max_bytes": "attachment_max_mb"}
# Definition keys the form does not show: an edit keeps them as they were.
KEPT = ("enabled", "status_map", "conflict_policy", "link_note", "user_map")
WORD = re.compile(r"[A-Za-z_][\w.]*\w")
MAPPING_PAIR = re.compile(r"(\S+) ↔ ([^\s)]+)")


def from_form(form: MultiMapping[Any]) -> Values:
    """The form's values; mapping rows left empty are dropped and the rest renumbered, so
    row ``i`` is the definition's ``mappings[i]``."""
    values: Values = {}
    for key in form:
        if key in MULTI:
            values[key] = [part.strip() for raw in form.getall(key) for part in str(raw).split(",")
                           if part.strip()]
        elif key in FORM_KEYS:
            values[key] = str(form[key]).strip()
    rows = sorted({int(m.group(1)) for key in form if (m := MAPPING_KEY.fullmatch(key))})
    kept = 0
    for row in rows:
        cells = {name: str(form.get(f"mappings[{row}].{name}", "")).strip()
                 for name in ("jira", "zoho", "owner", "type")}
        if cells["jira"] or cells["zoho"]:
            values.update({f"mappings[{kept}].{name}": cell for name, cell in cells.items()})
            kept += 1
    return values


def from_sci(sci: SciConfig) -> Values:
    values: Values = {
        "id": sci.id, "name": sci.name, "mode": sci.mode, "jira_projects": sci.jira_projects,
        "jira_issue_type": sci.jira_issue_type, "preview_fields": sci.preview_fields,
        "status_field": sci.status_field, "poll_interval": f"{sci.poll_interval:g}",
        "attachment_max_mb": f"{sci.attachment_max_bytes / MB:g}",
        **{f"zoho.{k}": v for k, v in msgspec.structs.asdict(sci.zoho).items()},
    }
    if sci.rule is not None:
        values.update({f"rule.{k}": v for k, v in msgspec.structs.asdict(sci.rule).items()})
    for index, mapping in enumerate(sci.mappings):
        values.update({f"mappings[{index}].{k}": v or "" for k, v in
                       msgspec.structs.asdict(mapping).items()})
    for key in CHECKS:
        if values.get(key) is True or getattr(sci, key, False) is True:
            values[key] = "on"
        else:
            values.pop(key, None)
    return values


def mapping_rows(values: Values, add: bool = False) -> int:
    """The filled rows plus one empty row (two when a row is being added)."""
    filled = {int(m.group(1)) for key in values if (m := MAPPING_KEY.fullmatch(key))}
    return (max(filled) + 1 if filled else 0) + (2 if add else 1)


def definition(values: Values, kept: dict[str, Any] | None = None) -> dict[str, Any]:
    """The SCI definition the form describes; empty inputs are left out so the
    definition's defaults apply."""
    mode = _text(values, "mode")
    raw: dict[str, Any] = {
        **(kept or {}), "id": _text(values, "id"), "name": _text(values, "name"), "mode": mode,
        "jira_projects": list(values.get("jira_projects", [])), "zoho": _zoho(values),
        "associated_records": _check(values, "associated_records"),
    }
    _number(raw, "poll_interval", values.get("poll_interval", ""))
    if mode == "display":
        raw["preview_fields"] = list(values.get("preview_fields", []))
        return raw
    raw.update({
        "jira_issue_type": _text(values, "jira_issue_type"),
        "mappings": _mappings(values, custom=mode == "custom"),
        "status_field": _text(values, "status_field"),
        **{key: _check(values, key) for key in CHECKS if "." not in key},
    })
    mb = values.get("attachment_max_mb", "")
    try:
        raw["attachment_max_bytes"] = round(float(mb) * MB) if mb else 10 * MB
    except ValueError:
        raw["attachment_max_bytes"] = mb  # the definition's check names the key
    if _text(values, "rule.field"):
        raw["rule"] = _rule(values)
    return raw


def kept_of(sci: SciConfig) -> dict[str, Any]:
    built = msgspec.to_builtins(sci)
    return {key: built[key] for key in KEPT if key in built}


def error_key(exc: InvalidSci, values: Values) -> str:
    """The form key the error is about. Checks across keys report their struct (or the
    top level); then the row of the mapping the message names, or the key the message says
    is needed, else the first key it names."""
    field = ALIASES.get(exc.field, exc.field).replace(".[", "[")
    if field in FORM_KEYS or MAPPING_KEY.fullmatch(field):
        return field
    body = str(exc).partition("`: ")[2]
    row = _mapping_row(body, values)
    if row is not None:
        return f"mappings[{row}].{_mapping_fault(body, values, row)}"
    before, _, after = body.partition(" need")
    for part in (after, before):
        for word in (ALIASES.get(w, w) for w in WORD.findall(part)):
            for key in (f"{field}.{word}", word) if field else (word,):
                if (key in FORM_KEYS and key != "mode") or MAPPING_KEY.fullmatch(key):
                    return key
    return field


def _mapping_row(message: str, values: Values) -> int | None:
    """The row of the mapping a message names as ``jira ↔ zoho``."""
    named = MAPPING_PAIR.search(message)
    if named is None:
        return None
    for index in range(mapping_rows(values) - 1):
        if (_text(values, f"mappings[{index}].jira"), _text(values, f"mappings[{index}].zoho")
                ) == named.groups():
            return index
    return None


def _mapping_fault(message: str, values: Values, row: int) -> str:
    """A missing owner, or which side of the row an earlier row maps already."""
    if "owner" in message:
        return "owner"
    earlier = {_text(values, f"mappings[{i}].jira") for i in range(row)}
    return "jira" if _text(values, f"mappings[{row}].jira") in earlier else "zoho"


def _text(values: Values, key: str) -> str:
    return str(values.get(key, ""))


def _check(values: Values, key: str) -> bool:
    return values.get(key) == "on"


def _number(raw: dict[str, Any], key: str, text: str) -> None:
    if not text:
        return
    try:
        raw[key] = float(text)
    except ValueError:
        raw[key] = text  # the definition's check names the key


def _zoho(values: Values) -> dict[str, Any]:
    zoho = {"system": _text(values, "zoho.system") or "crm",
            "module": _text(values, "zoho.module")}
    if zoho["system"] == "projects":
        zoho.update({key: _text(values, f"zoho.{key}")
                     for key in ("portal_id", "project_id", "workdrive_folder")})
    return zoho


def _mappings(values: Values, *, custom: bool) -> list[dict[str, str]]:
    """Filled rows; a half-filled row leaves out its empty side, which the definition's
    check then names."""
    rows = []
    for index in range(mapping_rows(values) - 1):
        names = ("jira", "zoho", "owner", "type") if custom else ("jira", "zoho", "type")
        row = {name: _text(values, f"mappings[{index}].{name}") for name in names}
        rows.append({name: cell for name, cell in row.items() if cell})
    return rows


def _rule(values: Values) -> dict[str, Any]:
    rule: dict[str, Any] = {key: _text(values, f"rule.{key}") for key in (
        "field", "operator", "value", "status_when_met", "status_when_not_met")}
    rule["create_when_not_met"] = _check(values, "rule.create_when_not_met")
    if rule["operator"] in ("is_empty", "is_not_empty"):
        rule["value"] = ""  # a value left in the input does not apply to these
    return rule
