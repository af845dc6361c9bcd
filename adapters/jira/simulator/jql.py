"""The JQL subset the simulator understands (what the bridge and the official clients send).

Clauses ``field op value`` (``= != > >= < <= ~ !~``), ``field [not] in (…)`` and
``field is [not] empty``, combined with ``AND``, ``OR``, ``NOT`` and parentheses, then an
optional ``ORDER BY f [ASC|DESC], …``. Fields: project, issuetype/type, key/issuekey/id,
status, summary, labels, assignee, created/createdDate, updated/updatedDate.

Date values, like Jira's: ``"yyyy-MM-dd HH:mm"``, ``"yyyy/MM/dd HH:mm"``, ``"yyyy-MM-dd"``,
``"yyyy/MM/dd"`` (read in the searching account's time zone, minute precision), relative
``-5m``/``"-2h"``/``"-1w 2d"`` (from now), ``now()``, or an unquoted number of epoch
milliseconds (full precision). Like ``/search/jql``, a query must be bounded: an empty
query or a bare ORDER BY is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<op>>=|<=|!=|!~|=|>|<|~)|(?P<punct>[(),])|(?P<word>[^\s()=!<>~,"']+))""",
    re.X,
)
_ALIASES = {"issuekey": "key", "type": "issuetype", "createddate": "created",
            "updateddate": "updated"}
FIELDS = frozenset({"project", "issuetype", "key", "id", "status", "summary", "labels",
                    "assignee", "created", "updated"})
DATE_FIELDS = frozenset({"created", "updated"})
_TEXT_FIELDS = frozenset({"summary"})
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_RELATIVE = re.compile(r"^([-+]?)((?:\d+[wdhm]\s*)+)$")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1)}


class JqlError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    kind: str  # string | op | punct | word | end
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Query:
    predicate: Predicate
    order: tuple[tuple[str, bool], ...]  # (field, descending), most significant first


def parse(jql: str, *, zone: tzinfo = UTC, now: datetime | None = None) -> Query:
    """``zone`` reads zone-less date literals; ``now`` anchors relative dates."""
    return _Parser(_tokens(jql), zone, now or datetime.now(UTC)).query()


def _tokens(jql: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = jql.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise JqlError(f"Error in the JQL Query: unexpected character at {position}.")
        kind = next(k for k, v in match.groupdict().items() if v is not None)
        tokens.append(Token(kind, match[kind]))
        position = match.end()
    return [*tokens, Token("end", "")]


class _Parser:
    def __init__(self, tokens: list[Token], zone: tzinfo, now: datetime) -> None:
        self.tokens = tokens
        self.at = 0
        self.zone = zone
        self.now = now

    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, kind: str, text: str) -> None:
        token = self.take()
        if token.kind != kind or token.text.lower() != text:
            found = token.text or "the end of the query"
            raise JqlError(f"Error in the JQL Query: Expecting '{text}' but got '{found}'.")

    def query(self) -> Query:
        if self.peek().kind == "end" or self.peek().is_word("order"):
            raise JqlError("Unbounded JQL queries are not allowed here. Please add a search "
                           "restriction to your query.")
        predicate = self.disjunction()
        order: list[tuple[str, bool]] = []
        if self.peek().is_word("order"):
            self.take()
            self.expect("word", "by")
            order.append(self.order_item())
            while self.peek().text == ",":
                self.take()
                order.append(self.order_item())
        if self.peek().kind != "end":
            raise JqlError(f"Error in the JQL Query: unexpected '{self.peek().text}'.")
        return Query(predicate, tuple(order) or (("key", False),))

    def order_item(self) -> tuple[str, bool]:
        name = self.field_name(self.take())
        descending = False
        if self.peek().is_word("asc", "desc"):
            descending = self.take().text.lower() == "desc"
        return name, descending

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek().is_word("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda view: any(p(view) for p in parts)

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self.peek().is_word("and"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else lambda view: all(p(view) for p in parts)

    def negation(self) -> Predicate:
        if self.peek().is_word("not"):
            self.take()
            inner = self.negation()
            return lambda view: not inner(view)
        if self.peek().text == "(":
            self.take()
            inner = self.disjunction()
            self.expect("punct", ")")
            return inner
        return self.clause()

    def field_name(self, token: Token) -> str:
        raw = token.text
        name = _ALIASES.get(raw.lower(), raw.lower())
        if token.kind not in ("word", "string") or name not in FIELDS:
            raise JqlError(f"Field '{raw or 'end of query'}' does not exist or you do not have "
                           "permission to view it.")
        return name

    def clause(self) -> Predicate:
        field = self.field_name(self.take())
        token = self.take()
        if token.is_word("is"):
            negate = self.peek().is_word("not") and bool(self.take())
            if not self.take().is_word("empty", "null"):
                raise JqlError("Error in the JQL Query: expecting EMPTY after IS.")
            return lambda view: _is_empty(view[field]) != negate
        if token.is_word("not"):
            if not self.take().is_word("in"):
                raise JqlError("Error in the JQL Query: expecting IN after NOT.")
            return self.membership(field, negate=True)
        if token.is_word("in"):
            return self.membership(field, negate=False)
        if token.kind != "op":
            raise JqlError(f"Error in the JQL Query: expecting an operator after '{field}'.")
        return self.comparison(field, token.text, self.take())

    def membership(self, field: str, negate: bool) -> Predicate:
        self.expect("punct", "(")
        values = [self.value(field, self.take())]
        while self.peek().text == ",":
            self.take()
            values.append(self.value(field, self.take()))
        self.expect("punct", ")")
        if field in DATE_FIELDS:
            instants = {v for v, _ in values}
            return lambda view: (view[field] in instants) != negate
        wanted = {str(v).lower() for v in values}
        return lambda view: bool(_texts(view[field]) & wanted) != negate

    def comparison(self, field: str, op: str, token: Token) -> Predicate:
        if field in DATE_FIELDS:
            limit, minute_precision = self.value(field, token)
            return _date_comparison(field, op, limit, minute_precision)
        value = str(self.value(field, token)).lower()
        if op in ("~", "!~"):
            if field not in _TEXT_FIELDS:
                raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
            return lambda view: (value in str(view[field]).lower()) == (op == "~")
        if op not in ("=", "!="):
            raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
        return lambda view: (value in _texts(view[field])) == (op == "=")

    def value(self, field: str, token: Token) -> Any:
        if token.kind not in ("word", "string"):
            raise JqlError(f"Error in the JQL Query: expecting a value for '{field}'.")
        text = token.text[1:-1] if token.kind == "string" else token.text
        if field not in DATE_FIELDS:
            return text
        if token.kind == "word" and text.lower() == "now" and self.peek().text == "(":
            self.expect("punct", "(")
            self.expect("punct", ")")
            return self.now, False
        return self.instant(text, quoted=token.kind == "string", field=field)

    def instant(self, text: str, *, quoted: bool, field: str) -> tuple[datetime, bool]:
        """(the instant, whether it has minute precision only)."""
        if text.isdigit() and not quoted:
            return datetime.fromtimestamp(int(text) / 1000, UTC), False
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.zone), True
            except ValueError:
                continue
        relative = _RELATIVE.match(text.strip())
        if relative:
            amount = sum((int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([wdhm])",
                                                                    relative[2])), timedelta())
            return self.now + (-amount if relative[1] == "-" else amount), False
        raise JqlError(f"Date value '{text}' for field '{field}' is invalid. Valid formats "
                       "include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
                       "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")


def _date_comparison(field: str, op: str, limit: datetime, minute_precision: bool) -> Predicate:
    compare = {">=": datetime.__ge__, ">": datetime.__gt__, "<=": datetime.__le__,
               "<": datetime.__lt__, "=": datetime.__eq__, "!=": datetime.__ne__}.get(op)
    if compare is None:
        raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")

    def predicate(view: dict[str, Any]) -> bool:
        moment: datetime = view[field]
        if minute_precision and op in ("<=", ">"):
            # a minute literal covers its whole minute for "up to" and "after" comparisons
            moment = moment.replace(second=0, microsecond=0)
        return bool(compare(moment, limit))

    return predicate


def _texts(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(v).lower() for v in value}
    return {str(value).lower()}


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == ""
