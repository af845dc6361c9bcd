"""The rolling per-URL-pattern throttle: the simulator's lock-out and the client's budget."""

import math
import time

import pytest

from actors.throttle import PatternThrottle
from adapters.http import Outcome
from adapters.zoho.projects import ZohoProjectsError, url_pattern

from .conftest import AUTH, SimFactory, Zp


async def _get(zp: Zp, path: str) -> tuple[int, dict]:
    async with zp.session.get(zp.v3(path), headers=AUTH) as resp:
        return resp.status, (await resp.json() if resp.status != 204 else {})


async def test_lockout_after_the_limit_per_url_pattern(start_zp: SimFactory) -> None:
    zp = await start_zp(throttle_limit=5, throttle_window=120.0, lockout_minutes=22)
    project_id = zp.project("Website Relaunch").project_id
    for _ in range(5):
        assert (await _get(zp, f"/projects/{project_id}/tasks"))[0] == 200
    status, body = await _get(zp, f"/projects/{project_id}/tasks")
    assert status == 400
    assert body == {"error": {
        "status_code": 400, "title": "URL_ROLLING_THROTTLES_LIMIT_EXCEEDED",
        "error_type": "OPERATIONAL_VALIDATION_ERROR",
        "details": {"message": "Cannot execute more than 5 requests per API in 2 minutes. "
                               "Try again after 22 minutes."}}}
    # Another project's tasks share the pattern; other patterns are unaffected.
    other = zp.project("Mobile App").project_id
    assert (await _get(zp, f"/projects/{other}/tasks"))[0] == 400
    assert (await _get(zp, f"/projects/{project_id}/milestones"))[0] == 200
    zp.clock.now += 10 * 60
    status, body = await _get(zp, f"/projects/{project_id}/tasks")
    assert status == 400 and body["error"]["details"]["message"].endswith("after 12 minutes.")
    zp.clock.now += 12 * 60
    assert (await _get(zp, f"/projects/{project_id}/tasks"))[0] == 200


async def test_window_rolls(start_zp: SimFactory) -> None:
    zp = await start_zp(throttle_limit=3, throttle_window=120.0)
    for _ in range(3):
        assert (await _get(zp, "/projects"))[0] == 200
        zp.clock.now += 50
    # The first request is now more than 120 s old, so one more fits.
    assert (await _get(zp, "/projects"))[0] == 200
    assert (await _get(zp, "/projects"))[0] == 400


async def test_throttle_status_can_be_429(start_zp: SimFactory) -> None:
    zp = await start_zp(throttle_limit=1, throttle_status=429)
    assert (await _get(zp, "/projects"))[0] == 200
    status, body = await _get(zp, "/projects")
    assert status == 429 and body["error"]["title"] == "URL_ROLLING_THROTTLES_LIMIT_EXCEEDED"


async def test_client_classifies_lockout_and_pauses_that_pattern(start_zp: SimFactory) -> None:
    zp = await start_zp(throttle_limit=2, lockout_minutes=3)
    throttle = PatternThrottle(url_pattern)
    zp.client = zp.make_client(throttle)
    where = zp.project("Website Relaunch")
    for _ in range(2):
        await zp.client.milestones(where)
    with pytest.raises(ZohoProjectsError) as locked:
        await zp.client.milestones(where)
    assert locked.value.outcome is Outcome.RATE_LIMITED
    assert locked.value.retry_after == 180.0
    paused = throttle.budget("/portal/1/projects/2/milestones").statistics()
    assert math.isclose(paused.paused_for, 180.0, abs_tol=5.0)
    assert throttle.budget("/portal/1/projects/2/tasks").statistics().paused_for == 0
    assert len(await zp.client.projects(zp.portal_id)) == 2


def test_url_pattern_blanks_ids() -> None:
    assert url_pattern("/portal/123/projects/456/tasks/789/comments?page=2") == \
        "/portal/{}/projects/{}/tasks/{}/comments"


async def _burst(zp: Zp, calls: int) -> int:
    """List calls in a row; how many went through before a refusal (or all of them)."""
    where = zp.project("Website Relaunch")
    for done in range(calls):
        try:
            await zp.client.milestones(where)
        except ZohoProjectsError as exc:
            assert exc.outcome is Outcome.RATE_LIMITED
            return done
    return calls


async def test_budget_keeps_a_burst_of_150_calls_under_the_limit(start_zp: SimFactory) -> None:
    """A scaled-down limit (60 per 0.5 s) on the simulator's real clock."""
    paced = await start_zp(throttle_limit=60, throttle_window=0.5, clock=time.monotonic)
    paced.client = paced.make_client(PatternThrottle(url_pattern, limit=60, window=0.5))
    assert await _burst(paced, 150) == 150
    # Without the budget the same burst trips the lock-out.
    unpaced = await start_zp(throttle_limit=60, throttle_window=0.5, clock=time.monotonic)
    unpaced.client = unpaced.make_client(PatternThrottle(url_pattern, limit=10_000, window=0.5))
    assert await _burst(unpaced, 150) == 60
