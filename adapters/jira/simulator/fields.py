"""Issue fields as Jira's create and edit screens accept them, and their changelog items.

Only fields on the (simulated) screens can be set: anything else, ``status`` included
(it changes by transition only), is refused per field. References (assignee, priority,
select options) must name something that exists; they are stored as references and
rendered as objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from adapters.jira import adf
from adapters.jira.simulator.context import JiraHttpError, SimContext
from adapters.jira.simulator.state import (
    CUSTOM_FIELDS,
    FIELD_NAMES,
    PRIORITIES,
    SELECT_OPTIONS,
    SUMMARY_LIMIT,
    User,
)

RICH_TEXT = ("description", "environment")
CREATE_ONLY = ("project", "issuetype")
NUMBER_FIELDS = frozenset(f["id"] for f in CUSTOM_FIELDS if f["schema"]["type"] == "number")
TEXT_FIELDS = frozenset(f["id"] for f in CUSTOM_FIELDS if f["schema"]["type"] == "string")


def not_settable(name: str) -> str:
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


class Invalid(ValueError):
    """One field's value is refused; the message is Jira's ``errors.<field>`` text."""


class FieldReader:
    """Turns a request's ``fields`` into stored values, collecting Jira's per-field errors."""

    def __init__(self, ctx: SimContext, rich_text: Callable[[Any, str], Any]) -> None:
        self.ctx = ctx
        self.rich_text = rich_text  # request-aware: ADF in v3, plain strings in v2

    def read(self, fields: dict[str, Any], creating: bool) -> tuple[dict[str, Any],
                                                                      dict[str, str]]:
        stored: dict[str, Any] = {}
        errors: dict[str, str] = {}
        if creating and "summary" not in fields:
            errors["summary"] = "You must specify a summary of the issue."
        for name, value in fields.items():
            if name in CREATE_ONLY and creating:
                continue  # resolved by the create route
            try:
                stored[name] = self.value(name, value)
            except Invalid as problem:
                errors[name] = str(problem)
            except JiraHttpError as refused:
                if not refused.errors:
                    raise  # INVALID_INPUT refuses the whole request
                errors.update(refused.errors)
        return stored, errors

    def value(self, name: str, value: Any) -> Any:
        if name == "summary":
            return _summary(value)
        if name in RICH_TEXT:
            return self.rich_text(value, name)
        if name == "labels":
            return _labels(value)
        if name == "priority":
            return _priority(value)
        if name == "assignee":
            return self._user(value)
        if name == "duedate":
            return _due_date(value)
        if name in TEXT_FIELDS:
            return _typed(value, str, "Operation value must be a string")
        if name in NUMBER_FIELDS:
            return _typed(value, (int, float), "Operation value must be a number")
        if name in SELECT_OPTIONS:
            return _option(name, value)
        raise Invalid(not_settable(name))

    def _user(self, value: Any) -> User | None:
        if value is None:
            return None
        account_id = (value.get("accountId") or value.get("id")) if isinstance(value, dict) \
            else None
        user = self.ctx.state.user(str(account_id)) if account_id else None
        if user is None:
            raise Invalid("Specified user does not exist or you do not have required "
                          "permissions")
        return user


def _summary(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("You must specify a summary of the issue.")
    if len(value) > SUMMARY_LIMIT:
        raise Invalid("Summary must be less than 255 characters.")
    if "\n" in value:
        raise Invalid("Field 'summary' cannot contain newline characters.")
    return value


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid("data was not an array")
    for label in value:
        if not label or re.search(r"\s", label):
            raise Invalid(f"The label '{label}' contains spaces which is invalid.")
    return list(dict.fromkeys(value))


def _priority(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        for index in (0, 1):
            wanted = value.get(("id", "name")[index])
            found = next((p for p in PRIORITIES if wanted is not None and p[index] == str(wanted)),
                         None)
            if found:
                return found
        if value.get("name") is not None:
            raise Invalid(f"Priority name '{value['name']}' is not valid")
    raise Invalid("Specify the Priority (id or name) in the proper format")


def _due_date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise Invalid(f"Error parsing date string: {value}") from None


def _typed(value: Any, kind: type | tuple[type, ...], message: str) -> Any:
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise Invalid(message)
    return value


def _option(field_id: str, value: Any) -> str | None:
    if value is None:
        return None
    options = SELECT_OPTIONS[field_id]
    if isinstance(value, dict):
        if str(value.get("id")) in options:
            return str(value["id"])
        by_value = next((oid for oid, text in options.items() if text == value.get("value")),
                        None)
        if by_value:
            return by_value
        shown = value.get("value", value.get("id"))
        raise Invalid(f"Option value '{shown}' is not valid")
    raise Invalid(f"Specify a valid 'id' or 'name' for {FIELD_NAMES[field_id]}")


# -- changelog -----------------------------------------------------------------------------
def change_item(name: str, old: Any, new: Any) -> dict[str, Any]:
    """One changelog item: ids in ``from``/``to``, display text in ``…String``."""
    custom = name.startswith("customfield_")
    (old_id, old_text), (new_id, new_text) = _shown(name, old), _shown(name, new)
    return {"field": FIELD_NAMES.get(name, name) if custom else name,
            "fieldtype": "custom" if custom else "jira", "fieldId": name,
            "from": old_id, "fromString": old_text, "to": new_id, "toString": new_text}


def _shown(name: str, value: Any) -> tuple[str | None, str | None]:
    """(id, display string) of a stored value, as Jira writes them into changelogs."""
    if value is None or value == []:
        return None, None
    if isinstance(value, User):
        return value.account_id, value.name
    if name == "priority":
        return value[0], value[1]
    if name in SELECT_OPTIONS:
        return value, SELECT_OPTIONS[name][value]
    if name in RICH_TEXT:
        return None, adf.to_text(value)
    if name == "labels":
        return None, " ".join(value)
    if name == "duedate":
        return value, f"{value} 00:00:00.0"
    if name in NUMBER_FIELDS:
        return None, f"{value:g}"
    return None, str(value)
