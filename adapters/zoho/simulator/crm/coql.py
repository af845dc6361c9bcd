"""COQL, the subset a sync needs: ``select f1, f2 from Module where <criteria>
[order by f [asc|desc], …] [limit [offset,] count | limit count offset n]``.

Criteria: ``= != > < >= <=``, ``[not] between a and b``, ``[not] in (…)``, ``[not] like``,
``is [not] null``, ``and``/``or`` and parentheses. Datetimes compare as instants, so
``Modified_Time > '2026-01-05T10:00:00+00:00'`` is right whatever the org's offset.
"""

from __future__ import annotations

import operator as ops
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.zoho.simulator.crm.query import converter
from adapters.zoho.simulator.crm.replies import CrmError

DEFAULT_LIMIT = 200
MAX_LIMIT = 2000
MAX_REACH = 100_000  # offset + limit
MAX_FIELDS = 50
_TOKENS = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
                     r"|(?P<op>!=|>=|<=|=|>|<)|(?P<punct>[(),])|(?P<word>[A-Za-z_$][\w$.]*))")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": ops.eq, "!=": ops.ne, ">": ops.gt, "<": ops.lt, ">=": ops.ge, "<=": ops.le}
Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class Query:
    fields: list[str]
    module: str
    where: Predicate
    order: list[tuple[str, bool]]  # (field, descending)
    types: dict[str, str]
    offset: int
    limit: int


def syntax_error(near: str, column: int) -> CrmError:
    return CrmError(400, "SYNTAX_ERROR", "error occured while parsing the query",
                    {"near": near, "line": 1, "column": column})


class _Parser:
    def __init__(self, text: str, types: Callable[[str], dict[str, str] | None]) -> None:
        self.tokens = self._lex(text)
        self.position = 0
        self.types_of = types
        self.types: dict[str, str] = {}

    @staticmethod
    def _lex(text: str) -> list[tuple[str, str, int]]:
        tokens, position = [], 0
        while text[position:].strip():
            found = _TOKENS.match(text, position)
            if found is None:
                raise syntax_error(text[position:].strip()[:20], position + 1)
            kind = found.lastgroup or "word"
            tokens.append((kind, found.group(kind), found.start(kind) + 1))
            position = found.end()
        return tokens

    # -- token helpers --------------------------------------------------------------------
    def peek(self, *words: str) -> bool:
        if self.position >= len(self.tokens):
            return False
        _, text, _ = self.tokens[self.position]
        return not words or text.lower() in words

    def take(self, *words: str) -> tuple[str, str, int]:
        if self.position >= len(self.tokens):
            raise syntax_error("end of query", 0)
        token = self.tokens[self.position]
        if words and token[1].lower() not in words:
            raise syntax_error(token[1], token[2])
        self.position += 1
        return token

    # -- grammar ----------------------------------------------------------------------------
    def query(self) -> Query:
        self.take("select")
        fields = [self.take()[1]]
        while self.peek(","):
            self.take(",")
            fields.append(self.take()[1])
        self.take("from")
        module = self.take()[1]
        types = self.types_of(module)
        if types is None:
            raise CrmError(400, "INVALID_QUERY", "invalid query formed",
                           {"clause": "from", "module": module})
        self.types = types
        for name in fields:
            self.column(name)
        if len(fields) > MAX_FIELDS:
            raise CrmError(400, "LIMIT_EXCEEDED", "select columns limit exceeded",
                           {"limit": MAX_FIELDS})
        if not self.peek("where"):
            raise CrmError(400, "SYNTAX_ERROR", "where clause is missing", {"clause": "where"})
        self.take("where")
        where = self.disjunction()
        order = self.order_by()
        offset, limit = self.limit()
        if self.position != len(self.tokens):
            _, text, column = self.tokens[self.position]
            raise syntax_error(text, column)
        return Query(fields, module, where, order, self.types, offset, limit)

    def column(self, name: str) -> str:
        if name.split(".")[0] not in self.types:
            raise CrmError(400, "INVALID_QUERY", "column given seems to be invalid",
                           {"column_name": name})
        return name

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek("or"):
            self.take("or")
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

    def conjunction(self) -> Predicate:
        parts = [self.atom()]
        while self.peek("and"):
            self.take("and")
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

    def atom(self) -> Predicate:
        if self.peek("("):
            self.take("(")
            inner = self.disjunction()
            self.take(")")
            return inner
        name = self.column(self.take()[1])
        convert = converter(self.types.get(name.split(".")[0], "text"))
        negated = self.peek("not")
        if negated:
            self.take("not")
        if not negated and self.peek("is"):
            self.take("is")
            wants_null = not self.peek("not")
            if not wants_null:
                self.take("not")
            self.take("null")
            return lambda r: (_value(r, name) in (None, "")) == wants_null
        test = self.comparison(name, convert)
        return (lambda r: not test(r)) if negated else test

    def comparison(self, name: str, convert: Callable[[Any], Any]) -> Predicate:
        _, word, column = self.take()
        word = word.lower()
        if word in _COMPARE:
            wanted, compare = self.literal(convert), _COMPARE[word]
            return lambda r: _holds(r, name, convert, lambda v: compare(v, wanted))
        if word == "between":
            low = self.literal(convert)
            self.take("and")
            high = self.literal(convert)
            return lambda r: _holds(r, name, convert, lambda v: low <= v <= high)
        if word == "in":
            self.take("(")
            options = [self.literal(convert)]
            while self.peek(","):
                self.take(",")
                options.append(self.literal(convert))
            self.take(")")
            return lambda r: _holds(r, name, convert, lambda v: v in options)
        if word == "like":
            pattern = _like(str(self.literal(str)))
            return lambda r: pattern.fullmatch(str(_value(r, name) or "")) is not None
        raise syntax_error(word, column)

    def literal(self, convert: Callable[[Any], Any]) -> Any:
        kind, text, column = self.take()
        if kind == "str":
            raw: Any = text[1:-1].replace("''", "'").replace("\\'", "'")
        elif kind == "num":
            raw = float(text) if "." in text else int(text)
        elif text.lower() in ("true", "false"):
            raw = text.lower() == "true"
        else:
            raise syntax_error(text, column)
        try:
            return convert(raw)
        except (TypeError, ValueError):
            raise CrmError(400, "INVALID_QUERY",
                           "value given seems to be invalid for the column",
                           {"near": text, "column": column, "line": 1}) from None

    def order_by(self) -> list[tuple[str, bool]]:
        if not self.peek("order"):
            return []
        self.take("order")
        self.take("by")
        order = []
        while True:
            name = self.column(self.take()[1])
            descending = False
            if self.peek("asc", "desc"):
                descending = self.take()[1].lower() == "desc"
            order.append((name, descending))
            if not self.peek(","):
                return order
            self.take(",")

    def limit(self) -> tuple[int, int]:
        offset, limit = 0, DEFAULT_LIMIT
        if self.peek("limit"):
            self.take("limit")
            limit = self.number()
            if self.peek(","):
                self.take(",")
                offset, limit = limit, self.number()
        if self.peek("offset"):
            self.take("offset")
            offset = self.number()
        if not 1 <= limit <= MAX_LIMIT:
            raise CrmError(400, "LIMIT_EXCEEDED", f"limit must be between 1 and {MAX_LIMIT}",
                           {"clause": "limit"})
        if offset + limit > MAX_REACH:
            raise CrmError(400, "LIMIT_EXCEEDED", "Max records limit exceeded",
                           {"limit": MAX_REACH})
        return offset, limit

    def number(self) -> int:
        kind, text, column = self.take()
        if kind != "num" or "." in text or text.startswith("-"):
            raise syntax_error(text, column)
        return int(text)


def parse(text: str, types: Callable[[str], dict[str, str] | None]) -> Query:
    """``types(module)`` gives the module's field types, or None when it is unknown."""
    return _Parser(text, types).query()


def run(query: Query, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The selected page of rows (selected fields plus ``id``) and whether more follow."""
    found = [r for r in records if query.where(r)]
    found.sort(key=lambda r: r["id"])  # Zoho's default order: by id, ascending
    for name, descending in reversed(query.order):
        found.sort(key=_order_key(name, converter(query.types.get(name.split(".")[0], "text"))),
                   reverse=descending)
    page = found[query.offset:query.offset + query.limit]
    rows = [{**{n: _value(r, n) for n in query.fields}, "id": r["id"]} for r in page]
    return rows, query.offset + query.limit < len(found)


def _value(record: dict[str, Any], name: str) -> Any:
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _holds(record: dict[str, Any], name: str, convert: Callable[[Any], Any],
           test: Callable[[Any], bool]) -> bool:
    value = _value(record, name)
    if isinstance(value, dict):
        value = value.get("id")
    if value in (None, ""):
        return False  # SQL: a comparison with null is never true
    return test(convert(value))


def _order_key(name: str, convert: Callable[[Any], Any]
               ) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    """Nulls first, then by the field's own order (instants for datetimes)."""
    def key(record: dict[str, Any]) -> tuple[bool, Any]:
        value = _value(record, name)
        if isinstance(value, dict):
            value = value.get("id")
        return (False, 0) if value in (None, "") else (True, convert(value))

    return key


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.split("%")), re.IGNORECASE)
