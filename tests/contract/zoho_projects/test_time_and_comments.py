"""``last_modified_time`` filters compare instants, and whether a comment bumps its task's
``last_modified_time`` is a switch (off by default: the stricter assumption)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from .conftest import AUTH, SimFactory, Zp


def _filter(condition: str, *values: str) -> str:
    return ('{"criteria":[{"field_name":"last_modified_time","criteria_condition":"'
            f'{condition}","value":[{",".join(f"{chr(34)}{v}{chr(34)}" for v in values)}]}}]}}')


async def _names(zp: Zp, text: str) -> list[str]:
    where = zp.project("Website Relaunch")
    url = zp.v3(f"/projects/{where.project_id}/tasks")
    async with zp.session.get(url, headers=AUTH, params={"filter": text}) as response:
        if response.status == 204:
            return []
        assert response.status == 200, await response.text()
        return sorted(t["name"] for t in (await response.json())["tasks"])


async def test_time_filters_compare_instants_not_text(zp: Zp) -> None:
    ref = zp.ref("tasks", "Book domain")
    stamp = datetime.fromisoformat((await zp.client.record(ref)).last_modified_time)
    # the same instants written in another offset sort differently as text
    west = timezone(-timedelta(hours=7))
    just_before = (stamp - timedelta(seconds=1)).astimezone(west).isoformat()
    just_after = (stamp + timedelta(seconds=1)).astimezone(west).isoformat()
    assert "Book domain" in await _names(zp, _filter("after", just_before))
    assert "Book domain" not in await _names(zp, _filter("after", just_after))
    assert "Book domain" in await _names(zp, _filter("before", just_after))
    assert "Book domain" in await _names(zp, _filter("between", just_before, just_after))
    east = timezone(timedelta(hours=9))
    assert "Book domain" not in await _names(
        zp, _filter("before", (stamp - timedelta(seconds=1)).astimezone(east).isoformat()))


async def test_comments_leave_the_task_alone_by_default(zp: Zp) -> None:
    ref = zp.ref("tasks", "Book domain")
    where = zp.project("Website Relaunch")
    before = (await zp.client.record(ref)).last_modified_time
    cursor = datetime.now(UTC) - timedelta(milliseconds=1)
    added = await zp.client.add_comment(ref, "<p>new</p>")
    await zp.client.update_comment(ref, added.id, "<p>edited</p>")
    assert (await zp.client.record(ref)).last_modified_time == before
    assert [t async for t in zp.client.changed_since(where, "tasks", cursor)] == []
    # the way to find new comments without the bump: list them
    assert [c.comment for c in await zp.client.comments(ref)][-1] == "<p>edited</p>"
    await zp.client.delete_comment(ref, added.id)
    assert (await zp.client.record(ref)).last_modified_time == before


@pytest.mark.parametrize("at_start", [True, False])
async def test_comments_bump_the_task_when_switched_on(start_zp: SimFactory,
                                                       at_start: bool) -> None:
    zp = await start_zp(comments_bump_task=True) if at_start else await start_zp()
    if not at_start:
        async with zp.session.post(f"{zp.url}/_sim/settings",
                                   json={"comments_bump_task": True}) as response:
            assert response.status == 200
            assert (await response.json())["comments_bump_task"] is True
    ref = zp.ref("tasks", "Book domain")
    where = zp.project("Website Relaunch")
    before = (await zp.client.record(ref)).last_modified_time
    cursor = datetime.now(UTC) - timedelta(milliseconds=1)
    await zp.client.add_comment(ref, "<p>new</p>")
    assert (await zp.client.record(ref)).last_modified_time > before
    assert [t.id async for t in zp.client.changed_since(where, "tasks", cursor)] == [ref.id]


async def test_settings_refuse_unknown_knobs(zp: Zp) -> None:
    async with zp.session.post(f"{zp.url}/_sim/settings", json={"nope": 1}) as response:
        assert response.status == 400
    async with zp.session.post(f"{zp.url}/_sim/settings",
                               json={"comments_bump_task": "yes"}) as response:
        assert response.status == 400
