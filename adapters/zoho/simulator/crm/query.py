"""Record queries: search criteria, page tokens, If-Modified-Since moments."""

from __future__ import annotations

import operator as ops
import re
from collections.abc import Callable
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from adapters.zoho.simulator.crm.replies import CrmError

_GROUP = re.compile(r"\((\w+):(\w+):([^)]*)\)")
_JOIN = re.compile(r"\)\s*(and|or)\s*\(", re.I)
_TOKEN = re.compile(r"pt[0-9a-f]{8}")


def page_token(offset: int) -> str:
    return f"pt{offset:08x}"


def token_offset(token: str) -> int:
    if not _TOKEN.fullmatch(token):
        raise CrmError(400, "INVALID_DATA", "invalid page_token", {"param_name": "page_token"})
    return int(token[2:], 16)


def parse_time(value: str, header: str = "If-Modified-Since") -> datetime:
    """ISO 8601 with an offset as Zoho documents it; HTTP dates as some clients send them.
    A time without a zone is refused rather than guessed."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            moment = None
    if moment is None or moment.tzinfo is None:
        raise CrmError(400, "INVALID_DATA", f"invalid {header}", {"header_name": header})
    return moment


def matches(criteria: str, record: dict[str, Any], types: dict[str, str]) -> bool:
    """``(Field:operator:value)`` groups joined by and/or, evaluated left to right."""
    groups = _GROUP.findall(criteria)
    if not groups:
        raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                       {"reason": "criteria is malformed"})
    result = _match(record, types, *groups[0])
    for join, group in zip(_JOIN.findall(criteria), groups[1:], strict=False):
        found = _match(record, types, *group)
        result = (result and found) if join.lower() == "and" else (result or found)
    return result


def _match(record: dict[str, Any], types: dict[str, str], field_name: str, operator: str,
           value: str) -> bool:
    kind = types.get(field_name, "text")
    if operator in _ORDERED:
        if kind not in _COMPARABLE:
            raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                           {"api_name": field_name, "operator": operator})
        return _compare(record.get(field_name), kind, operator, value)
    actual = str(record.get(field_name, "")).lower()
    wanted = value.lower()
    match operator:
        case "equals":
            return wanted in actual  # Zoho's text "equals" behaves like contains
        case "not_equal":
            return actual != wanted
        case "starts_with":
            return actual.startswith(wanted)
        case "in":
            return actual in wanted.split(",")
    raise CrmError(400, "INVALID_QUERY", "invalid query formed", {"operator": operator})


def _compare(actual: Any, kind: str, operator: str, value: str) -> bool:
    """Datetimes compare as instants (offsets differ), dates and numbers by value."""
    if actual is None:
        return False
    convert = converter(kind)
    try:
        have = convert(actual)
        bounds = [convert(v) for v in value.split(",")] if operator == "between" \
            else [convert(value)]
    except (TypeError, ValueError):
        raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                       {"reason": f"{value!r} is not a valid {kind}"}) from None
    if operator == "between":
        if len(bounds) != 2:
            raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                           {"reason": "between needs two values"})
        return bounds[0] <= have <= bounds[1]
    return _ORDERED[operator](have, bounds[0])


def _instant(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a datetime needs an offset")
    return moment


_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    "greater_than": ops.gt, "greater_equal": ops.ge, "less_than": ops.lt,
    "less_equal": ops.le, "between": ops.le}
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "datetime": _instant, "date": lambda v: date.fromisoformat(str(v)),
    "currency": float, "double": float, "integer": int}
_COMPARABLE = frozenset(_CONVERTERS)


def converter(kind: str) -> Callable[[Any], Any]:
    """How values of a field type compare: instants, dates, numbers, else lower-case text."""
    return _CONVERTERS.get(kind, lambda v: str(v).lower())
