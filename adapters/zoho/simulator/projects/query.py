"""V3 list query parameters: ``filter`` criteria JSON, ``sort_by`` and ``page``/``per_page``.
Time values (``last_modified_time`` …) compare and sort as instants, not as text."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import invalid_value

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 100
_SORT = re.compile(r"^(ASC|DESC)\((\w+)\)$")
_TOKEN = re.compile(r"\s*(\(|\)|AND\b|OR\b|\d+)", re.IGNORECASE)

Record = dict[str, Any]


def _plain(value: Any) -> str:
    """A record value as the text filters compare against (ids and names of objects)."""
    if isinstance(value, dict):
        return str(value.get("id") or value.get("zpuid") or value.get("name") or "")
    return "" if value is None else str(value)


def _ordered(value: str) -> tuple[int, Any]:
    """Times order as instants (their offsets may differ); anything else as text."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return (1, value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (0, moment)


def _matches(record: Record, criterion: Mapping[str, Any]) -> bool:
    field_name = criterion.get("field_name", "")
    raw = record.get(field_name)
    if field_name in ("owner", "assignee") and raw is None:
        owners = record.get("owners_and_work", {}).get("owners", [])
        raw = owners[0] if owners else None
    value, wanted = _plain(raw), [str(v) for v in criterion.get("value", [])]
    name_or_id = {value, _plain(raw.get("name"))} if isinstance(raw, dict) else {value}
    match criterion.get("criteria_condition"):
        case "is":
            return bool(name_or_id & set(wanted))
        case "is_not":
            return not name_or_id & set(wanted)
        case "contains":
            return any(w.lower() in v.lower() for w in wanted for v in name_or_id)
        case "starts_with":
            return any(v.lower().startswith(w.lower()) for w in wanted for v in name_or_id)
        case "after":
            return bool(wanted) and _ordered(value) > _ordered(wanted[0])
        case "before":
            return bool(wanted) and _ordered(value) < _ordered(wanted[0])
        case "between":
            return len(wanted) == 2 and \
                _ordered(wanted[0]) <= _ordered(value) <= _ordered(wanted[1])
        case "is_empty":
            return not value
        case "is_not_empty":
            return bool(value)
        case "all_open":
            return isinstance(raw, dict) and not raw.get("is_closed_type")
        case other:
            raise invalid_value("filter", f"Unsupported criteria_condition {other!r}.")


def _evaluate(pattern: str, results: list[bool]) -> bool:
    """``"(1 OR 2) AND 3"`` over 1-based criterion results; AND binds tighter than OR."""
    tokens = [t.upper() for t in _TOKEN.findall(pattern)]
    if "".join(tokens) != re.sub(r"\s+", "", pattern).upper():
        raise invalid_value("filter", "Invalid pattern.")
    position = 0

    def take() -> str | None:
        nonlocal position
        token = tokens[position] if position < len(tokens) else None
        position += 1
        return token

    def atom() -> bool:
        token = take()
        if token == "(":
            value = disjunction()
            if take() != ")":
                raise invalid_value("filter", "Unbalanced pattern.")
            return value
        if token is None or not token.isdigit() or not 1 <= int(token) <= len(results):
            raise invalid_value("filter", "Pattern refers to an unknown criterion.")
        return results[int(token) - 1]

    def conjunction() -> bool:
        value = atom()
        while position < len(tokens) and tokens[position] == "AND":
            take()
            value = atom() and value
        return value

    def disjunction() -> bool:
        value = conjunction()
        while position < len(tokens) and tokens[position] == "OR":
            take()
            value = conjunction() or value
        return value

    value = disjunction()
    if position != len(tokens):
        raise invalid_value("filter", "Invalid pattern.")
    return value


def record_filter(text: str | None) -> Callable[[Record], bool]:
    if not text:
        return lambda record: True
    try:
        spec = json.loads(text)
        criteria = list(spec["criteria"])
    except (ValueError, KeyError, TypeError):
        raise invalid_value("filter", "filter must be JSON with a criteria list.") from None
    pattern = str(spec.get("pattern") or " AND ".join(str(i + 1) for i in range(len(criteria))))
    return lambda record: _evaluate(pattern, [_matches(record, c) for c in criteria])


def sort_records(records: list[Record], sort_by: str | None) -> list[Record]:
    if not sort_by:
        return records
    match = _SORT.match(sort_by)
    if match is None:
        raise invalid_value("sort_by", "sort_by must look like ASC(field) or DESC(field).")
    direction, field_name = match.groups()
    return sorted(records, key=lambda r: _ordered(_plain(r.get(field_name))),
                  reverse=direction == "DESC")


def _number(params: Mapping[str, str], name: str, default: int, top: int) -> int:
    try:
        value = int(params.get(name, default))
    except ValueError:
        raise invalid_value(name, f"{name} must be a number.") from None
    if not 1 <= value <= top:
        raise invalid_value(name, f"{name} must be between 1 and {top}.")
    return value


def page_of(records: list[Record], params: Mapping[str, str]) -> tuple[list[Record], dict]:
    """One page and its ``page_info``."""
    page = _number(params, "page", 1, 1_000_000)
    per_page = _number(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    start = (page - 1) * per_page
    chunk = records[start:start + per_page]
    info = {"page": page, "per_page": per_page, "page_count": len(chunk),
            "has_next_page": start + per_page < len(records)}
    return chunk, info
