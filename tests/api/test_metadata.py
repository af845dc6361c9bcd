"""Live metadata for SCI definitions, read through the daemon's connections from the
simulators: Jira projects, issue types with statuses, fields; Zoho CRM modules and fields."""

from pathlib import Path

from bridge.admin import metadata
from tests.api.conftest import api_client

META = "/api/v1/metadata"


async def test_jira_projects_issue_types_statuses_and_fields(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, projects = await api.call("GET", f"{META}/jira/projects")
        assert status == 200 and {"key": "SUP", "name": "Support"} in projects
        status, sup = await api.call("GET", f"{META}/jira/projects/SUP")
        assert status == 200 and sup["key"] == "SUP"
        task = next(t for t in sup["issue_types"] if t["name"] == "Task")
        assert "To Do" in task["statuses"] and "Done" in task["statuses"]
        status, fields = await api.call("GET", f"{META}/jira/fields")
        assert status == 200
        assert {"id": "summary", "name": "Summary", "type": "string"} in fields
        status, body = await api.call("GET", f"{META}/jira/projects/NOPE")
        assert status == 404 and "NOPE" in body["detail"]


async def test_zoho_crm_modules_and_fields(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, modules = await api.call("GET", f"{META}/zoho/crm/modules")
        assert status == 200 and {"api_name": "Cases", "label": "Cases"} in modules
        status, fields = await api.call("GET", f"{META}/zoho/crm/modules/Cases/fields")
        assert status == 200
        assert "Subject" in {f["api_name"] for f in fields}
        assert all(set(f) == {"api_name", "label", "type", "picklist"} for f in fields)
        status, body = await api.call("GET", f"{META}/zoho/crm/modules/Nope/fields")
        assert status == 404 and "Nope" in body["detail"]


async def test_an_unconfigured_side_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        for path in (f"{META}/zoho/projects/portals", f"{META}/zoho/projects/portals/1/projects"):
            status, body = await api.call("GET", path)
            assert status == 409
            assert body["detail"] == "no Zoho Projects connection is configured ([zoho.projects])"


async def test_a_failing_remote_side_is_named(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        jira = api.runtime.connections().jira  # type: ignore[misc]
        assert jira is not None
        jira.api += "/gone"  # every request now answers 404
        status, body = await api.call("GET", f"{META}/jira/projects")
        assert status == 409 and body["detail"].startswith("Jira could not be read: ")


async def test_zoho_projects_portals_projects_and_task_fields(tmp_path: Path) -> None:
    async with api_client(tmp_path, projects=True) as api:
        status, portals = await api.call("GET", f"{META}/zoho/projects/portals")
        assert status == 200 and len(portals) == 1
        portal = portals[0]["id"]
        status, projects = await api.call("GET", f"{META}/zoho/projects/portals/{portal}/projects")
        assert status == 200 and projects and set(projects[0]) == {"id", "name"}
        fields = await metadata.projects_fields(api.runtime, portal, projects[0]["id"], "tasks")
        status_field = next(f for f in fields if f.api_name == "status")
        assert status_field.picklist and "due_date" in {f.api_name for f in fields}
        status, body = await api.call("GET", f"{META}/zoho/projects/portals/nope/projects")
        assert status == 404 and "nope" in body["detail"]
