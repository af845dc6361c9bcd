"""Account time zones: offsets in answers, JQL literals read in the account's zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.jira.client import parse_jira_time
from adapters.jira.simulator.clock import SimClock

from .conftest import Jira

ANN = "5b10ac8d82e05b22cc7d4ef5"


async def keys(jira: Jira, jql: str) -> list[str]:
    return [i.key async for i in jira.client.search(jql, fields=("updated",))]


async def test_myself_names_the_zone_and_every_timestamp_carries_its_offset(jira: Jira) -> None:
    me = await jira.client.myself()
    assert me["timeZone"] == "America/Los_Angeles"
    await jira.client.add_comment("SUP-1", "a comment")
    issue = await jira.client.get_issue("SUP-1", expand=("changelog",))
    (comment,) = [c async for c in jira.client.comments("SUP-1")]
    _, server, _ = await jira.raw("GET", "/rest/api/2/serverInfo")
    zone = ZoneInfo("America/Los_Angeles")
    for stamp in (issue.fields["created"], issue.fields["updated"], comment.created,
                  server["serverTime"]):
        moment = parse_jira_time(stamp)
        assert stamp[-5:] in ("-0800", "-0700")  # "…17.687-0800": no colon
        assert moment.utcoffset() == moment.astimezone(zone).utcoffset()


async def test_zone_is_set_per_simulated_user(make_jira) -> None:
    async with make_jira(time_zone="Asia/Kolkata") as jira:
        assert (await jira.client.get_issue("SUP-1")).fields["updated"].endswith("+0530")
        status, user, _ = await jira.raw("POST", "/_sim/users",
                                         json={"accountId": ANN, "timeZone": "Europe/Berlin"})
        assert status == 200 and user["timeZone"] == "Europe/Berlin"
        _, ann, _ = await jira.raw("GET", f"/rest/api/3/user?accountId={ANN}")
        assert ann["timeZone"] == "Europe/Berlin"
        status, _, _ = await jira.raw("POST", "/_sim/users",
                                      json={"accountId": ANN, "timeZone": "Mars/Olympus"})
        assert status == 400


async def test_zoneless_literals_are_read_in_the_account_zone(jira: Jira) -> None:
    jira.sim.clock.advance(3600)  # the seeded issues are an hour older than this change
    await jira.client.edit_issue("SUP-2", fields={"summary": "touched now"})
    updated = (await jira.client.get_issue("SUP-2", fields=("updated",))).updated_at
    assert updated is not None
    # The UTC wall-clock minute just before the change, written without a zone, is read
    # as Los Angeles time: 7 or 8 hours later, so the change is not "after" it.
    utc_literal = (updated - timedelta(minutes=1)).astimezone(UTC).strftime('"%Y-%m-%d %H:%M"')
    assert "SUP-2" not in await keys(jira, f"project = SUP AND updated >= {utc_literal}")
    literal = await jira.client.jql_instant(updated - timedelta(minutes=1))
    assert await keys(jira, f"project = SUP AND updated >= {literal}") == ["SUP-2"]


async def test_epoch_millisecond_literals_compare_at_full_precision(jira: Jira) -> None:
    jira.sim.clock.advance(3600)
    await jira.client.edit_issue("SUP-3", fields={"summary": "precise"})
    updated = (await jira.client.get_issue("SUP-3", fields=("updated",))).updated_at
    assert updated is not None
    millis = int(updated.timestamp() * 1000)
    assert await keys(jira, f"key = SUP-3 AND updated >= {millis}") == ["SUP-3"]
    assert await keys(jira, f"key = SUP-3 AND updated > {millis}") == []
    assert await keys(jira, f"key = SUP-3 AND updated < {millis + 1}") == ["SUP-3"]


async def test_relative_dates_follow_the_simulator_clock(make_jira) -> None:
    clock = SimClock()
    async with make_jira(clock=clock) as jira:
        await jira.client.edit_issue("SUP-1", fields={"summary": "recent"})
        assert await keys(jira, "key = SUP-1 AND updated >= -5m") == ["SUP-1"]
        clock.advance(10 * 60)
        assert await keys(jira, 'key = SUP-1 AND updated >= "-5m"') == []
        assert await keys(jira, 'key = SUP-1 AND updated >= "-1h"') == ["SUP-1"]
        assert await keys(jira, "key = SUP-1 AND updated <= now()") == ["SUP-1"]


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham",
                                  "UTC"])
async def test_client_literals_find_changes_in_any_account_zone(make_jira, zone: str) -> None:
    async with make_jira(time_zone=zone) as jira:
        assert await jira.client.time_zone() == ZoneInfo(zone)
        jira.sim.clock.advance(3600)
        before = jira.sim.clock.now()
        await jira.client.edit_issue("SUP-1", fields={"summary": f"in {zone}"})
        since = await jira.client.jql_instant(before)
        assert await keys(jira, f"project = SUP AND updated >= {since}") == ["SUP-1"]
        later = await jira.client.jql_instant(before + timedelta(minutes=2))
        assert await keys(jira, f"project = SUP AND updated >= {later}") == []


async def test_jql_instant_renders_the_account_local_minute(jira: Jira) -> None:
    moment = datetime(2026, 11, 23, 15, 41, 17, 687000, tzinfo=UTC)
    assert await jira.client.jql_instant(moment) == '"2026-11-23 07:41"'
    with pytest.raises(ValueError, match="aware"):
        await jira.client.jql_instant(datetime(2026, 11, 23, 15, 41))


@pytest.mark.parametrize(("text", "offset_minutes"), [
    ("2026-11-23T07:41:17.687-0800", -480), ("2026-11-23T21:11:17.687+0530", 330),
    ("2026-11-23T15:41:17.687+0000", 0), ("2026-11-23T15:41:17Z", 0)])
def test_parse_jira_time_keeps_the_offset(text: str, offset_minutes: int) -> None:
    moment = parse_jira_time(text)
    assert moment.utcoffset() == timedelta(minutes=offset_minutes)
    assert moment.astimezone(UTC).strftime("%H:%M") == "15:41"


@pytest.mark.parametrize("text", ["2026-11-23T07:41:17.687", "yesterday", ""])
def test_parse_jira_time_refuses_zoneless_or_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_jira_time(text)
