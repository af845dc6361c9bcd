"""Jira's timestamp format: ``2021-01-17T12:34:00.000+0000`` (offset without a colon)."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def parse(value: str) -> datetime:
    return datetime.strptime(value, FORMAT)


def format_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def jql_literal(moment: datetime) -> str:
    """JQL date literals have minute precision: ``"2025-01-02 03:04"`` (UTC profile)."""
    return moment.astimezone(UTC).strftime('"%Y-%m-%d %H:%M"')
