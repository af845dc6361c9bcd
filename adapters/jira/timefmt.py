"""Jira's timestamps and JQL date literals, always in an explicit time zone.

Responses carry the caller's profile offset without a colon
(``2026-11-23T07:41:17.687-0800``); JQL string literals have minute precision and no zone,
so Jira reads them in the searching account's zone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def parse_jira_time(text: str) -> datetime:
    """An aware datetime from a Jira timestamp (``…+0000``, ``…-0800``, ``…+05:30``, ``…Z``)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a Jira timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"Jira timestamp without a UTC offset: {text!r}")
    return moment


def format_time(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return (local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"
            + local.strftime("%z"))


def jql_literal(moment: datetime, zone: tzinfo) -> str:
    """``"yyyy-MM-dd HH:mm"`` in ``zone`` (the searching account's), quoted for JQL."""
    if moment.tzinfo is None:
        raise ValueError("a JQL instant needs an aware datetime")
    return moment.astimezone(zone).strftime('"%Y-%m-%d %H:%M"')
