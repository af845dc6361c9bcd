"""Value conversion per field type, between each side's wire values and one canonical form.

Canonical forms (what the base stores and what is compared): text and rich text as plain
markup strings, numbers as ``Decimal``-normalised strings, dates as ``YYYY-MM-DD``,
datetimes as UTC ``YYYY-MM-DDTHH:MM:SSZ``, booleans, picklists as labels, multi-selects
as sorted label lists, users as lower-case e-mail addresses, lookups as names. Empty
values are ``None``. A value that cannot be converted raises ``ConversionError`` with a
message a person can act on; the decision core turns it into a reported problem.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from adapters.jira import adf

FieldKind = Literal["text", "rich_text", "number", "date", "datetime", "boolean", "picklist",
                    "multiselect", "user", "lookup"]
FIELD_KINDS: tuple[FieldKind, ...] = ("text", "rich_text", "number", "date", "datetime",
                                      "boolean", "picklist", "multiselect", "user", "lookup")
SUMMARY_LIMIT = 255

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.I)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


class ConversionError(ValueError):
    pass


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """What conversion needs to know about the two accounts."""

    jira_zone: str = "UTC"  # IANA name from Jira's /myself
    zoho_zone: str = "UTC"  # IANA name or ±hh:mm offset of the Zoho org
    users: dict[str, str] = {}  # Jira accountId → e-mail, for accounts that hide their e-mail

    def zone(self, side: Literal["jira", "zoho"]) -> tzinfo:
        return parse_zone(self.jira_zone if side == "jira" else self.zoho_zone)


def parse_zone(name: str) -> tzinfo:
    match = _OFFSET.match(name.strip())
    if match:
        sign = -1 if match[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ConversionError(f"unknown time zone {name!r}") from None


# -- wire → canonical ---------------------------------------------------------------------
def from_jira(kind: FieldKind, raw: Any, ctx: Context) -> Any:
    if raw in (None, "", []):
        return None
    match kind:
        case "rich_text":
            return _text(adf.to_text(raw) if isinstance(raw, dict) else str(raw))
        case "picklist":
            return _label(raw)
        case "multiselect":
            return _labels(raw)
        case "user":
            return _jira_user(raw, ctx)
        case "lookup":
            return _label(raw)
        case _:
            return _scalar(kind, raw, ctx, "jira")


def from_zoho(kind: FieldKind, raw: Any, ctx: Context) -> Any:
    if raw in (None, "", [], "-None-"):
        return None
    match kind:
        case "rich_text":
            return _text(html_to_text(raw) if "<" in str(raw) else str(raw))
        case "picklist" | "lookup":
            return _label(raw)
        case "multiselect":
            return _labels(raw)
        case "user":
            email = raw.get("email") if isinstance(raw, dict) else raw
            if not email or "@" not in str(email):
                raise ConversionError("Zoho user has no e-mail address to match a Jira user")
            return str(email).strip().lower()
        case _:
            return _scalar(kind, raw, ctx, "zoho")


def _scalar(kind: FieldKind, raw: Any, ctx: Context, side: Literal["jira", "zoho"]) -> Any:
    match kind:
        case "text":
            return _text(raw if isinstance(raw, str) else _label(raw))
        case "number":
            return number(raw)
        case "date":
            return _date(raw)
        case "datetime":
            return _datetime(raw, ctx.zone(side))
        case "boolean":
            return _boolean(raw)
    raise ConversionError(f"cannot read a {kind} value")


# -- canonical → wire ---------------------------------------------------------------------
def to_jira(kind: FieldKind, value: Any, ctx: Context, *, field: str = "") -> Any:
    if value is None:
        return [] if kind == "multiselect" else None
    match kind:
        case "text":
            return summary(value) if field == "summary" else value
        case "rich_text":
            return adf.to_adf(value)
        case "number":
            return float(Decimal(value))
        case "date":
            return value
        case "datetime":
            moment = datetime.fromisoformat(value).astimezone(ctx.zone("jira"))
            return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z")
        case "boolean":
            return {"value": "Yes" if value else "No"}
        case "picklist":
            return {"name": value} if field == "priority" else {"value": value}
        case "multiselect":
            return list(value) if field == "labels" else [{"value": v} for v in value]
        case "user":
            return {"accountId": _account_for(value, ctx)}
        case "lookup":
            return value
    raise ConversionError(f"cannot write a {kind} value to Jira")


def to_zoho(kind: FieldKind, value: Any, ctx: Context) -> Any:
    if value is None:
        return [] if kind == "multiselect" else None
    match kind:
        case "text" | "picklist" | "rich_text":
            return value  # Zoho shows plain text with line breaks in text areas and HTML
        case "number":
            parsed = Decimal(value)
            return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)
        case "date" | "boolean":
            return value
        case "datetime":
            moment = datetime.fromisoformat(value).astimezone(ctx.zone("zoho"))
            return moment.isoformat(timespec="seconds")
        case "multiselect":
            return list(value)
        case "user":
            raise ConversionError(
                f"Zoho users are set by id; no Zoho user id is known for {value}")
        case "lookup":
            raise ConversionError(f"Zoho lookups are set by record id; cannot set {value!r}")
    raise ConversionError(f"cannot write a {kind} value to Zoho")


# -- helpers ------------------------------------------------------------------------------
def summary(text: str) -> str:
    """Jira summaries are one line of at most 255 characters."""
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY_LIMIT else line[:SUMMARY_LIMIT - 1] + "…"


def summary_problem(text: str) -> str:
    line = " ".join(text.split())
    if len(line) > SUMMARY_LIMIT:
        return f"summary truncated from {len(line)} to {SUMMARY_LIMIT} characters"
    return ""


def html_to_text(value: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", value)))


def _text(value: str) -> str | None:
    cleaned = "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").split("\n"))
    return cleaned.strip() or None


def number(raw: Any) -> str:
    if isinstance(raw, bool):
        raise ConversionError(f"{raw!r} is not a number")
    try:
        parsed = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        raise ConversionError(f"{raw!r} is not a number") from None
    if not parsed.is_finite():
        raise ConversionError(f"{raw!r} is not a finite number")
    normal = parsed.normalize()
    return format(normal, "f")


def _date(raw: Any) -> str:
    text = str(raw)[:10]
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ConversionError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def _datetime(raw: Any, zone: tzinfo) -> str:
    moment = parse_time(str(raw), zone)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, zone: tzinfo = UTC) -> datetime:
    """ISO-8601 with ``Z``, ``±hh:mm`` or Jira's ``±hhmm``; a naive time is read in ``zone``."""
    cleaned = text.strip().replace("Z", "+00:00")
    cleaned = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ConversionError(f"{text!r} is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    label = _label(raw).strip().lower()
    if label in ("yes", "true", "1", "on"):
        return True
    if label in ("no", "false", "0", "off"):
        return False
    raise ConversionError(f"{raw!r} is not a yes/no value")


def _label(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("value", "name", "display_value", "displayName"):
            if raw.get(key) not in (None, ""):
                return str(raw[key])
        raise ConversionError(f"option {raw!r} has no label")
    return str(raw)


def _labels(raw: Any) -> list[str] | None:
    items = raw if isinstance(raw, list) else [raw]
    labels = sorted({_label(item) for item in items if item not in (None, "")})
    return labels or None


def _jira_user(raw: Any, ctx: Context) -> str:
    if not isinstance(raw, dict):
        raise ConversionError(f"{raw!r} is not a Jira user")
    email = raw.get("emailAddress") or ctx.users.get(str(raw.get("accountId", "")))
    if not email:
        name = raw.get("displayName") or raw.get("accountId")
        raise ConversionError(
            f"Jira user {name!r} hides their e-mail address; add them to the SCI's user_map")
    return str(email).strip().lower()


def _account_for(email: str, ctx: Context) -> str:
    for account, known in ctx.users.items():
        if known.lower() == email:
            return account
    raise ConversionError(f"no Jira account is known for {email}; add it to the SCI's user_map")
