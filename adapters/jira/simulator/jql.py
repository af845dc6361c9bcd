"""The JQL subset the simulator understands (what the bridge and the official clients send).

Clauses joined by AND: ``project = K`` / ``project in (A, B)``, ``issuetype = "Task"``,
``key = K-1`` / ``key in (...)``, ``status = "Done"``, ``summary ~ "text"``,
``updated|created >= "yyyy-MM-dd HH:mm"`` (also ``>``, ``<=``, ``<``), then an optional
``ORDER BY field [ASC|DESC]``. Like Jira's ``/search/jql``, a query must be bounded: an
empty query or a bare ORDER BY is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_CLAUSE = re.compile(
    r"""^\s*(?P<field>[a-zA-Z_]+)\s*
    (?:(?P<op>>=|<=|!=|=|>|<|~)\s*(?P<value>"[^"]*"|'[^']*'|[^\s()]+)
      |(?P<notin>not\s+)?in\s*\((?P<values>[^)]*)\))\s*$""",
    re.X | re.I,
)
_ORDER = re.compile(r"\s+order\s+by\s+", re.I)


class JqlError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    predicate: Callable[[dict[str, Any]], bool]
    order_field: str
    descending: bool


def _unquote(value: str) -> str:
    return value[1:-1] if value[:1] in "\"'" and value[-1:] == value[:1] else value


def _when(value: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    raise JqlError(f"Date value '{value}' for field 'updated' is invalid.")


def _clause(text: str) -> Callable[[dict[str, Any]], bool]:
    match = _CLAUSE.match(text)
    if not match:
        raise JqlError(f"Error in the JQL Query: unable to parse '{text.strip()}'.")
    field = match["field"].lower()
    if field not in {"project", "issuetype", "key", "status", "summary", "updated", "created",
                     "id"}:
        raise JqlError(f"Field '{match['field']}' does not exist or you do not have permission "
                       "to view it.")
    if match["values"] is not None:
        wanted = {_unquote(v.strip()).lower() for v in match["values"].split(",") if v.strip()}
        negate = bool(match["notin"])
        return lambda view: (str(view[field]).lower() in wanted) != negate
    op, value = match["op"], _unquote(match["value"])
    if field in ("updated", "created"):
        limit = _when(value)
        compare = {">=": datetime.__ge__, ">": datetime.__gt__, "<=": datetime.__le__,
                   "<": datetime.__lt__, "=": datetime.__eq__, "!=": datetime.__ne__}[op]
        return lambda view: compare(view[field].replace(second=0, microsecond=0)
                                    if op in ("<=", ">") else view[field], limit)
    if op == "~":
        return lambda view: value.lower() in str(view[field]).lower()
    if op not in ("=", "!="):
        raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
    return lambda view: (str(view[field]).lower() == value.lower()) == (op == "=")


def parse(jql: str) -> Query:
    parts = _ORDER.split(" " + jql.strip(), maxsplit=1)
    where = parts[0].strip()
    order = parts[1].strip() if len(parts) > 1 else ""
    if not where:
        raise JqlError("Unbounded JQL queries are not allowed here. Please add a search "
                       "restriction to your query.")
    predicates = [_clause(c) for c in re.split(r"\s+and\s+", where, flags=re.I)]
    order_field, descending = "key", False
    if order:
        tokens = order.split()
        order_field = tokens[0].lower()
        descending = len(tokens) > 1 and tokens[1].lower() == "desc"
    return Query(lambda view: all(p(view) for p in predicates), order_field, descending)
