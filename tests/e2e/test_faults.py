"""The real daemon under the faults the sync engine must survive: conflicts, SIGKILL in the
middle of auto-creates, duplicated and reordered deliveries, a 429 storm, 5xx bursts, hung
requests, dropped connections and added latency, a revoked token, a workflow with no path
to the wanted status, and a value that cannot be converted."""

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from adapters.http import RemoteError
from adapters.zoho.projects.views import RecordRef
from tests.e2e.conftest import DaemonProcess, Remote
from tests.e2e.test_sync import crm_sci, issue_for, jira_summary, projects_sci, until


class Source:
    """The Zoho side of a test: CRM Cases (SUP) or Projects tasks (ENG), by title."""

    def __init__(self, remote: Remote, system: str) -> None:
        self.remote, self.system = remote, system

    def sci(self) -> str:
        where = self.remote.project
        return crm_sci() if self.system == "crm" else \
            projects_sci(where.project_id, where.portal_id, status_map='{ "Closed" = "Done" }')

    async def create(self, *titles: str) -> list[str]:
        if self.system == "crm":
            created = await self.remote.crm.insert(
                "Cases", [{"Subject": t, "Status": "New"} for t in titles])
            return [str(c.id) for c in created]
        tasks = [await self.remote.projects.create(self.remote.project, "tasks", {"name": t})
                 for t in titles]
        return [t.id for t in tasks]

    def _ref(self, record: str) -> RecordRef:
        where = self.remote.project
        return RecordRef(where.portal_id, where.project_id, "tasks", record)

    async def title(self, record: str) -> str:
        if self.system == "crm":
            return str((await self.remote.crm.record("Cases", record))["Subject"])
        return (await self.remote.projects.record(self._ref(record))).name

    async def rename(self, record: str, title: str) -> None:
        if self.system == "crm":
            await self.remote.crm.update("Cases", [{"id": record, "Subject": title}])
        else:
            await self.remote.projects.update(self._ref(record), {"name": title})


@pytest.fixture(params=["crm", "projects"])
def source(request: pytest.FixtureRequest, remote: Remote) -> Source:
    return Source(remote, request.param)


async def linked_case(remote: Remote, subject: str) -> tuple[str, Any]:
    (created,) = await remote.crm.insert("Cases", [{"Subject": subject, "Status": "New"}])
    issue = await until(lambda: issue_for(remote, subject))
    return str(created.id), issue


async def linked_record(source: Source, title: str) -> tuple[str, Any]:
    (record,) = await source.create(title)
    issue = await until(lambda: issue_for(source.remote, title))
    return record, issue


async def test_conflict_is_decided_by_the_latest_change_and_recorded(
        source: Source, daemon: Callable[..., DaemonProcess]) -> None:
    remote = source.remote
    bridge = daemon(source.sci(), "poll")
    record, issue = await linked_record(source, "Conflict case")
    assert bridge.stop() == 0  # both sides change while the daemon is away
    await remote.jira.edit_issue(issue.key, fields={"summary": "Jira wording"})
    await anyio.sleep(1.1)  # Zoho CRM keeps whole seconds: its change is clearly later
    await source.rename(record, "Zoho wording")
    bridge.start()

    async def settled() -> bool:
        return await jira_summary(remote, issue.key) == "Zoho wording"
    await until(settled)
    assert await source.title(record) == "Zoho wording"
    assert any("summary changed on both sides; zoho wins (latest)" in h
               for h in bridge.history())


async def test_sigkill_during_auto_create_burst_creates_each_issue_once(
        source: Source, daemon: Callable[..., DaemonProcess]) -> None:
    remote = source.remote
    bridge = daemon(source.sci())
    titles = [f"Burst {n:02d}" for n in range(20)]
    await source.create(*titles)

    async def burst() -> list[str]:
        return [i.fields["summary"] async for i in
                remote.jira.search('summary ~ "Burst"', fields=("summary",))]

    async def some_created() -> bool:
        return len(await burst()) >= 3
    await until(some_created)
    bridge.kill()
    bridge.start()

    async def all_created() -> list[str]:
        found = await burst()
        return found if len(found) >= 20 else []
    await until(all_created, timeout=40)
    await anyio.sleep(2)  # nothing more arrives once everything settled
    assert sorted(await burst()) == titles


async def test_duplicated_and_reordered_deliveries_end_on_the_last_edit(
        source: Source, daemon: Callable[..., DaemonProcess]) -> None:
    remote = source.remote
    await remote.sim("jira", "/_sim/webhooks", {"duplicate": True, "reorder": True})
    bridge = daemon(source.sci())
    record, issue = await linked_record(source, "Noisy case")
    for n in range(5):
        await remote.jira.edit_issue(issue.key, fields={"summary": f"Noisy case v{n}"})

    async def last_edit_won() -> bool:
        return await source.title(record) == "Noisy case v4"
    await until(last_edit_won)
    await anyio.sleep(1.5)  # late duplicates must not move it back
    assert await source.title(record) == "Noisy case v4"
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


@pytest.mark.parametrize("system", ["jira", "crm"])
async def test_network_faults_slow_the_sync_but_lose_and_duplicate_nothing(
        remote: Remote, daemon: Callable[..., DaemonProcess], system: str) -> None:
    """5xx bursts, a hung request, dropped connections and added latency on one side."""
    bridge = daemon(crm_sci())
    titles = [f"Weather {system} {n}" for n in range(5)]
    await remote.crm.insert("Cases", [{"Subject": t, "Status": "New"} for t in titles])
    await remote.sim(system, "/_sim/faults", {"latency": 0.03, "burst_5xx": 4, "drops": 3,
                                              "timeouts": 1, "hang_seconds": 2})
    try:
        async def created() -> list[Any]:
            try:  # the faults hit our own reads too
                found = [i async for i in remote.jira.search(
                    f'summary ~ "Weather {system}"', fields=("summary",))]
            except RemoteError:
                return []
            return found if len(found) >= len(titles) else []
        issues = await until(created, timeout=60)
        key = next(i.key for i in issues if i.fields["summary"] == titles[0])
        await remote.jira.edit_issue(key, fields={"summary": f"{titles[0]} (calmer)"})

        async def edited() -> bool:
            try:
                cases = await remote.crm.search("Cases", word="calmer")
            except RemoteError:
                return False
            return any(c["Subject"] == f"{titles[0]} (calmer)" for c in cases)
        await until(edited, timeout=60)
        left = await remote.sim(system, "/_sim/faults", {})
        assert (left["burst_5xx"], left["drops"], left["timeouts"]) == (0, 0, 0)  # all hit
    finally:
        await remote.sim(system, "/_sim/faults", {"latency": 0, "burst_5xx": 0, "drops": 0,
                                                  "timeouts": 0})
    issues = [i async for i in remote.jira.search(f'summary ~ "Weather {system}"',
                                                  fields=("summary",))]
    assert sorted(i.fields["summary"] for i in issues) == sorted(
        [f"{titles[0]} (calmer)", *titles[1:]])  # each case once, none lost
    assert bridge.stop() == 0
