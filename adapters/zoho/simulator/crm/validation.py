"""Per-record checks of a write, as Zoho answers them inside ``data[i]``:
``MANDATORY_NOT_FOUND`` for a missing name field, ``INVALID_DATA`` with ``api_name``,
``json_path`` and ``expected_data_type`` for unknown fields, values of the wrong type,
malformed dates/datetimes and (restricted) picklist values outside the list."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from adapters.zoho.simulator.crm.data import MODULES, picklist
from adapters.zoho.simulator.crm.replies import field_failure

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Zoho datetimes carry an offset and no fraction: 2026-01-05T10:00:00-07:00
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TEXT = frozenset({"text", "textarea", "email", "phone", "website", "picklist"})
_NUMERIC = frozenset({"currency", "double", "integer"})
# expected_data_type as Zoho names it in the error details
_EXPECTED = {"currency": "double", "lookup": "jsonobject", "text": "text",
             "textarea": "textarea", "email": "email", "phone": "phone",
             "website": "website", "picklist": "picklist", "date": "date",
             "datetime": "datetime"}


def record_problem(module: str, values: dict[str, Any], index: int, *, creating: bool,
                   restricted_picklists: bool) -> dict[str, Any] | None:
    """The first per-record error item, or None when the values are acceptable."""
    name_field = MODULES[module][2]
    if creating and not values.get(name_field):
        return field_failure("MANDATORY_NOT_FOUND", "required field not found",
                             name_field, index)
    types = dict(MODULES[module][1])
    for api_name, value in values.items():
        if api_name == "id" or api_name.startswith("$"):
            continue
        if api_name not in types:
            return field_failure("INVALID_DATA", "invalid data", api_name, index)
        data_type = types[api_name]
        if value is not None and not _acceptable(module, api_name, data_type, value,
                                                 restricted_picklists):
            return field_failure("INVALID_DATA", "invalid data", api_name, index,
                                 expected_data_type=_EXPECTED.get(data_type, data_type))
    return None


def _acceptable(module: str, api_name: str, data_type: str, value: Any,
                restricted_picklists: bool) -> bool:
    if data_type in _NUMERIC:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if data_type == "lookup":
        return isinstance(value, dict) and bool(value.get("id"))
    if not isinstance(value, str):
        return False
    if data_type == "date":
        return _DATE.fullmatch(value) is not None and _parses(date.fromisoformat, value)
    if data_type == "datetime":
        return _DATETIME.fullmatch(value) is not None and _parses(datetime.fromisoformat,
                                                                 value)
    if data_type == "email":
        return value == "" or _EMAIL.fullmatch(value) is not None
    if data_type == "picklist" and restricted_picklists:
        return value in picklist(module, api_name)
    return data_type in _TEXT


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True
