"""The simulator's JQL reader on its own: precedence, zones, precision."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.jira.simulator.jql import JqlError, parse

LA = ZoneInfo("America/Los_Angeles")
NOON_UTC = datetime(2026, 11, 23, 12, 0, 30, 250000, tzinfo=UTC)


def issue(**fields: Any) -> dict[str, Any]:
    return {"project": "SUP", "issuetype": "Task", "key": "SUP-1", "id": "10000",
            "status": "To Do", "summary": "", "labels": [], "assignee": None,
            "created": NOON_UTC, "updated": NOON_UTC, **fields}


def matches(jql: str, view: dict[str, Any], **options: Any) -> bool:
    return parse(jql, **options).predicate(view)


def test_and_binds_tighter_than_or() -> None:
    bug = issue(issuetype="Bug", project="ENG")
    assert matches("project = SUP AND status = Done OR issuetype = Bug", bug)
    assert not matches("project = SUP AND (status = Done OR issuetype = Bug)", bug)
    assert matches("NOT (project = SUP) AND issuetype = bug", bug)


def test_literals_are_read_in_the_given_zone_at_minute_precision() -> None:
    view = issue()  # 12:00:30 UTC = 04:00:30 in Los Angeles
    assert matches('updated >= "2026-11-23 04:00"', view, zone=LA)
    assert not matches('updated >= "2026-11-23 04:01"', view, zone=LA)
    assert not matches('updated >= "2026-11-23 11:59"', view, zone=LA)
    assert matches('updated <= "2026-11-23 04:00"', view, zone=LA)  # within that minute
    assert matches('updated >= "2026/11/23"', view, zone=LA)


def test_epoch_milliseconds_and_relative_periods() -> None:
    view = issue()
    millis = int(NOON_UTC.timestamp() * 1000)
    assert matches(f"updated >= {millis}", view) and not matches(f"updated > {millis}", view)
    later = NOON_UTC + timedelta(minutes=3)
    assert matches("updated >= -5m", view, now=later)
    assert not matches('updated >= "-2m"', view, now=later)
    assert matches('updated >= "-1w 2d"', view, now=later + timedelta(days=8))


@pytest.mark.parametrize("jql", ["", "order by key", "project = SUP AND", "project = (SUP",
                                 "labels ~ x", "project SUP", "key in (A-1"])
def test_malformed_queries_are_refused(jql: str) -> None:
    with pytest.raises(JqlError):
        parse(jql)


def test_order_by_several_fields() -> None:
    query = parse("project = SUP ORDER BY status DESC, key")
    assert query.order == (("status", True), ("key", False))
