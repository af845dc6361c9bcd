"""The real daemon under the faults the sync engine must survive: conflicts, SIGKILL in the
middle of auto-creates, duplicated and reordered deliveries, a 429 storm, a revoked token,
a workflow with no path to the wanted status, and a value that cannot be converted."""

from collections.abc import Callable
from typing import Any

import anyio

from adapters.http import RemoteError
from tests.e2e.conftest import DaemonProcess, Remote
from tests.e2e.test_sync import crm_sci, issue_for, jira_summary, until


async def linked_case(remote: Remote, subject: str) -> tuple[str, Any]:
    (created,) = await remote.crm.insert("Cases", [{"Subject": subject, "Status": "New"}])
    issue = await until(lambda: issue_for(remote, subject))
    return str(created.id), issue


async def test_conflict_is_decided_by_the_latest_change_and_recorded(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci(), "poll")
    record, issue = await linked_case(remote, "Conflict case")
    assert bridge.stop() == 0  # both sides change while the daemon is away
    await remote.jira.edit_issue(issue.key, fields={"summary": "Jira wording"})
    await anyio.sleep(1.1)  # Zoho keeps whole seconds: its change is clearly the later one
    await remote.crm.update("Cases", [{"id": record, "Subject": "Zoho wording"}])
    bridge.start()

    async def settled() -> bool:
        return await jira_summary(remote, issue.key) == "Zoho wording"
    await until(settled)
    assert (await remote.crm.record("Cases", record))["Subject"] == "Zoho wording"
    assert any("summary changed on both sides; zoho wins (latest)" in h
               for h in bridge.history())


async def test_sigkill_during_auto_create_burst_creates_each_issue_once(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci())
    rows = [{"Subject": f"Burst {n:02d}", "Status": "New"} for n in range(20)]
    await remote.crm.insert("Cases", rows)

    async def some_created() -> bool:
        found = [i async for i in remote.jira.search('summary ~ "Burst"', fields=("summary",))]
        return len(found) >= 3
    await until(some_created)
    bridge.kill()
    bridge.start()

    async def all_created() -> list[str]:
        found = [i.fields["summary"] async for i in
                 remote.jira.search('summary ~ "Burst"', fields=("summary",))]
        return found if len(found) >= 20 else []
    summaries = await until(all_created, timeout=30)
    await anyio.sleep(2)  # nothing more arrives once everything settled
    final = [i async for i in remote.jira.search('summary ~ "Burst"', fields=("summary",))]
    assert sorted(summaries) == sorted(r["Subject"] for r in rows)
    assert len(final) == 20


async def test_duplicated_and_reordered_deliveries_end_on_the_last_edit(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    await remote.sim("jira", "/_sim/webhooks", {"duplicate": True, "reorder": True})
    bridge = daemon(crm_sci())
    record, issue = await linked_case(remote, "Noisy case")
    for n in range(5):
        await remote.jira.edit_issue(issue.key, fields={"summary": f"Noisy case v{n}"})

    async def last_edit_won() -> bool:
        return (await remote.crm.record("Cases", record))["Subject"] == "Noisy case v4"
    await until(last_edit_won)
    await anyio.sleep(1.5)  # late duplicates must not move it back
    assert (await remote.crm.record("Cases", record))["Subject"] == "Noisy case v4"
    assert bridge.stop() == 0


async def test_429_storm_slows_the_sync_but_loses_nothing(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    await remote.sim("jira", "/_sim/rate-limit", {"rate": 3, "burst": 3, "retry_after": 1})
    bridge = daemon(crm_sci())
    await remote.crm.insert("Cases", [{"Subject": f"Storm {n}", "Status": "New"}
                                      for n in range(6)])

    async def all_created() -> bool:
        try:  # the storm refuses our own reads too
            found = [i async for i in remote.jira.search('summary ~ "Storm"',
                                                         fields=("summary",))]
        except RemoteError:
            return False
        return len(found) == 6
    await until(all_created, timeout=40)
    assert bridge.metric('bridge_api_rate_limited_total{system="jira"}') > 0
    assert bridge.stop() == 0


async def test_revoked_token_makes_the_sci_not_ready_without_crashing(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci(), crm_auth="refresh_token")
    zoho = remote.info["zoho"]
    async with remote.session.post(f"{zoho['accounts_url']}/oauth/v2/token/revoke",
                                   params={"token": zoho["refresh_token"]}) as response:
        assert response.status == 200

    async def reports_it() -> Any:
        status, body = bridge.get("/readyz")
        return status == 503 and any("sci cases" in p and "attention" in p
                                     for p in body["problems"]) and body
    body = await until(reports_it)
    (actor,) = body["actors"]
    assert actor["state"] == "running" and actor["restarts"] == 0
    assert bridge.stop() == 0


async def test_missing_transition_and_unconvertible_value_are_reported(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    rule = ('{ field = "Status", operator = "equals", value = "Escalated", '
            'status_when_met = "Blocked", status_when_not_met = "To Do", '
            'create_when_not_met = true }')
    scis = crm_sci(rule=rule).replace(
        '{ jira = "description", zoho = "Description" },',
        '{ jira = "customfield_10011", zoho = "Priority", type = "number" },')
    bridge = daemon(scis)
    record, issue = await linked_case(remote, "Blocked case")
    await remote.crm.update("Cases", [{"id": record, "Status": "Escalated",
                                       "Priority": "High"}])

    async def reported() -> bool:
        history = bridge.history()
        return any("no path" in h and "'Blocked'" in h for h in history) and \
            any("is not a number" in h for h in history)
    await until(reported)
    fields = (await remote.jira.get_issue(issue.key, fields=("status",))).fields
    assert fields["status"]["name"] == "To Do"
    assert bridge.get("/readyz")[0] == 200  # data problems are reported, not fatal
    assert bridge.stop() == 0
