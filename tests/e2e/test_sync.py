"""Record sync through the real daemon for Zoho CRM and Zoho Projects, with Jira changes
arriving by webhook, by JQL polling, or both."""

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from adapters.zoho.projects.views import RecordRef
from tests.e2e.conftest import DaemonProcess, Remote

DELIVERIES = ["webhook", "poll", "both"]


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 15.0,
                interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout``."""
    with anyio.fail_after(timeout):
        while True:
            found = await check()
            if found:
                return found
            await anyio.sleep(interval)


def crm_sci(**extra: str) -> str:
    return '''
[[sci]]
id = "cases"
name = "Support cases"
mode = "two_way"
jira_projects = ["SUP"]
jira_issue_type = "Task"
zoho = { system = "crm", module = "Cases" }
poll_interval = 1.0
auto_create = true
mappings = [
  { jira = "summary", zoho = "Subject" },
  { jira = "description", zoho = "Description" },
]
''' + "".join(f"{key} = {value}\n" for key, value in extra.items())


def projects_sci(project_id: str, portal_id: str, **extra: str) -> str:
    return f'''
[[sci]]
id = "mobile"
name = "Mobile tasks"
mode = "two_way"
jira_projects = ["ENG"]
jira_issue_type = "Task"
zoho = {{ system = "projects", module = "tasks", portal_id = "{portal_id}", \
project_id = "{project_id}", workdrive_folder = "wd-mobile-docs" }}
poll_interval = 1.0
auto_create = true
status_sync = true
status_field = "status"
mappings = [ {{ jira = "summary", zoho = "name" }} ]
''' + "".join(f"{key} = {value}\n" for key, value in extra.items())


async def issue_for(remote: Remote, text: str) -> Any:
    found = [i async for i in remote.jira.search(f'summary ~ "{text}"',
                                                 fields=("summary", "status", "description"))]
    return found[0] if len(found) == 1 else None


async def jira_summary(remote: Remote, key: str) -> str:
    return str((await remote.jira.get_issue(key, fields=("summary",))).fields["summary"])


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_crm_records_sync_both_ways(remote: Remote, daemon: Callable[..., DaemonProcess],
                                          delivery: str) -> None:
    bridge = daemon(crm_sci(status_sync="true", status_field='"Status"',
                            status_map='{ "Closed" = "Done", "New" = "To Do" }'), delivery)
    (created,) = await remote.crm.insert("Cases", [{"Subject": f"Printer jam {delivery}",
                                                     "Description": "Tray 2", "Status": "New"}])
    record = str(created.id)
    issue = await until(lambda: issue_for(remote, f"Printer jam {delivery}"))
    notes = await until(lambda: remote.crm.notes("Cases", record))
    assert any(issue.key in n["Note_Content"] for n in notes)

    await remote.jira.edit_issue(issue.key, fields={"summary": f"Printer fixed {delivery}"})

    async def zoho_subject() -> bool:
        return (await remote.crm.record("Cases", record))["Subject"] == \
            f"Printer fixed {delivery}"
    await until(zoho_subject)

    await remote.crm.update("Cases", [{"id": record, "Subject": f"Printer again {delivery}"}])

    async def jira_follows() -> bool:
        return await jira_summary(remote, issue.key) == f"Printer again {delivery}"
    await until(jira_follows)

    await remote.crm.update("Cases", [{"id": record, "Status": "Closed"}])  # status sync

    async def jira_done() -> bool:
        fields = (await remote.jira.get_issue(issue.key, fields=("status",))).fields
        return fields["status"]["name"] == "Done"
    await until(jira_done)
    status, ready = bridge.get("/readyz")
    assert status == 200, ready
    assert bridge.stop() == 0


@pytest.mark.parametrize("delivery", DELIVERIES)
async def test_projects_tasks_sync_fields_and_status_both_ways(
        remote: Remote, daemon: Callable[..., DaemonProcess], delivery: str) -> None:
    where = remote.project
    # Projects does not say which statuses close a task until a record shows it: map it.
    bridge = daemon(projects_sci(where.project_id, where.portal_id,
                                 status_map='{ "Closed" = "Done" }'), delivery)
    task = await remote.projects.create(where, "tasks", {"name": f"Ship beta {delivery}"})
    ref = RecordRef(where.portal_id, where.project_id, "tasks", task.id)
    issue = await until(lambda: issue_for(remote, f"Ship beta {delivery}"))

    # Jira Done is several transitions away on ENG's workflow; Projects follows to Closed.
    await remote.jira.transition_to(issue.key, "In Progress")
    await remote.jira.transition_to(issue.key, "In Review")
    await remote.jira.transition_to(issue.key, "Done")

    async def closed() -> bool:
        status = (await remote.projects.record(ref)).status
        return status is not None and status.name == "Closed"
    await until(closed)

    statuses = {s.name: s.id for s in await remote.projects.statuses(where, "tasks")}
    await remote.projects.update(ref, {"name": f"Ship beta now {delivery}",
                                       "status": {"id": statuses["In Progress"]}})

    async def jira_follows() -> bool:
        fields = (await remote.jira.get_issue(issue.key, fields=("summary", "status"))).fields
        return fields["summary"] == f"Ship beta now {delivery}" and \
            fields["status"]["name"] == "In Progress"
    await until(jira_follows)
    assert bridge.stop() == 0
