"""Record queries: search criteria, page tokens, If-Modified-Since moments."""

from __future__ import annotations

import re
from datetime import datetime
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


def parse_time(value: str) -> datetime:
    """ISO 8601 as Zoho documents it; HTTP dates as some clients send them."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise CrmError(400, "INVALID_DATA", "invalid If-Modified-Since",
                       {"header_name": "If-Modified-Since"}) from None


def matches(criteria: str, record: dict[str, Any]) -> bool:
    """``(Field:operator:value)`` groups joined by and/or, evaluated left to right."""
    groups = _GROUP.findall(criteria)
    if not groups:
        raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                       {"reason": "criteria is malformed"})
    result = _match(record, *groups[0])
    for join, group in zip(_JOIN.findall(criteria), groups[1:], strict=False):
        found = _match(record, *group)
        result = (result and found) if join.lower() == "and" else (result or found)
    return result


def _match(record: dict[str, Any], field_name: str, operator: str, value: str) -> bool:
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
