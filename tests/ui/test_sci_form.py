"""The SCI form without a browser: mode cards, pickers filled from the simulators, a GET
refresh that keeps the values, create/save with CSRF, a validation message at its input,
config SCIs refused, pause/resume and delete from the SCIs list."""

from pathlib import Path

from multidict import MultiDict

from bridge.admin.sci_edits import InvalidSci, parse_definition
from bridge.ui import sci_form
from tests.api.conftest import api_client
from tests.api.harness import ADMIN
from tests.ui.test_access import csrf_from, login

TWO_WAY = {
    "mode": "two_way", "id": "form-deals", "name": "Form deals", "jira_projects": "ENG",
    "jira_issue_type": "Task", "zoho.system": "crm", "zoho.module": "Deals",
    "mappings[0].jira": "summary", "mappings[0].zoho": "Deal_Name", "mappings[1].jira": "",
    "mappings[1].zoho": "", "comments": "on", "poll_interval": "45", "attachment_max_mb": "5",
}


def test_form_values_round_trip_through_a_definition() -> None:
    values = sci_form.from_form(MultiDict(TWO_WAY))
    made = parse_definition(sci_form.definition(values))
    assert made.mappings[0].zoho == "Deal_Name" and len(made.mappings) == 1
    assert made.comments and made.poll_interval == 45 and made.attachment_max_bytes == 5 * 2**20
    assert sci_form.definition(sci_form.from_sci(made)) == sci_form.definition(values)


def test_an_error_names_the_input_the_message_is_about() -> None:
    def key_of(**changes: str) -> str:
        values = sci_form.from_form(MultiDict({**TWO_WAY, **changes}))
        try:
            parse_definition(sci_form.definition(values))
        except InvalidSci as exc:
            return sci_form.error_key(exc, values)
        raise AssertionError("valid")

    assert key_of(status_sync="on") == "status_field"
    assert key_of(**{"zoho.system": "projects", "zoho.module": "tasks"}) == "zoho.portal_id"
    assert key_of(**{"rule.field": "Stage", "rule.operator": "equals"}) == "rule.value"
    assert key_of(**{"mappings[0].zoho": ""}) == "mappings[0].zoho"
    assert key_of(attachment_max_mb="11") == "attachment_max_mb"
    assert key_of(poll_interval="0") == "poll_interval"
    assert key_of(mode="custom", **{"mappings[1].jira": "priority",
                                    "mappings[1].zoho": "Priority"}) == "mappings[0].owner"
    assert key_of(**{"mappings[1].jira": "summary",
                     "mappings[1].zoho": "Stage"}) == "mappings[1].jira"
    assert key_of(**{"mappings[1].jira": "priority",
                     "mappings[1].zoho": "Deal_Name"}) == "mappings[1].zoho"


async def test_the_form_offers_live_choices_and_creates_an_sci(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        client = api.client
        await login(client, *ADMIN)
        cards = await (await client.get("/admin/scis/new")).text()
        assert all(f"/admin/scis/new?mode={m}" in cards for m in sci_form.MODES)
        refreshed = await client.get("/admin/scis/new", params={**TWO_WAY, "refresh": "1"})
        html = await refreshed.text()
        assert refreshed.status == 200
        assert '<option value="Deal_Name" selected>' in html  # CRM fields of Deals
        assert '<option value="Task" selected>' in html  # issue types of ENG
        assert 'value="form-deals"' in html and 'csrf_token' not in str(refreshed.url)
        added = await (await client.get("/admin/scis/new",
                                        params={**TWO_WAY, "add_row": "1"})).text()
        assert 'name="mappings[2].jira"' in added

        token = csrf_from(html)
        response = await client.post("/admin/scis", data={**TWO_WAY, "csrf_token": token},
                                     allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/admin/scis"
        assert api.runtime.managed["form-deals"].mappings[0].jira == "summary"
        listed = await (await client.get("/admin/scis")).text()
        assert "SCI Form deals created." in listed and "/admin/scis/form-deals/edit" in listed


async def test_an_invalid_form_comes_back_with_the_message_at_its_input(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        client = api.client
        await login(client, *ADMIN)
        token = csrf_from(await (await client.get("/admin/scis/new?mode=two_way")).text())
        response = await client.post("/admin/scis", data={
            **TWO_WAY, "status_sync": "on", "csrf_token": token})
        html = await response.text()
        assert response.status == 400
        assert 'data-for="status_field">config key `(top level)`: status_sync needs' in html
        assert 'value="Form deals"' in html and "form-deals" not in api.runtime.managed
        forged = await client.post("/admin/scis", data=TWO_WAY, allow_redirects=False)
        assert forged.status == 403 and "form-deals" not in api.runtime.managed


async def test_edit_pause_resume_and_delete_an_sci_made_here(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        client = api.client
        await login(client, *ADMIN)
        token = csrf_from(await (await client.get("/admin/scis/new?mode=two_way")).text())
        await client.post("/admin/scis", data={**TWO_WAY, "csrf_token": token})
        form = await (await client.get("/admin/scis/form-deals/edit")).text()
        assert 'name="id" value="form-deals" readonly' in form and "Save" in form
        await client.post("/admin/scis/form-deals", data={
            **TWO_WAY, "name": "Renamed", "csrf_token": token})
        assert api.runtime.managed["form-deals"].name == "Renamed"

        await client.post("/admin/scis/form-deals/pause", data={"csrf_token": token})
        assert not api.runtime.managed["form-deals"].enabled
        await client.post("/admin/scis/form-deals/resume", data={"csrf_token": token})
        assert api.runtime.managed["form-deals"].enabled
        response = await client.post("/admin/scis/form-deals/delete",
                                     data={"csrf_token": token})
        assert "choose whether the SCI&#39;s links are kept" in await response.text()
        await client.post("/admin/scis/form-deals/delete",
                          data={"csrf_token": token, "links": "remove"})
        assert "form-deals" not in api.runtime.managed


async def test_config_scis_are_read_only_here(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        await login(api.client, *ADMIN)
        response = await api.client.get("/admin/scis/support-cases/edit")
        html = await response.text()
        assert str(response.url).endswith("/admin/scis")
        assert "declared in the config file; change it there" in html
        assert "/admin/scis/support-cases/edit" not in html


async def test_a_zoho_projects_sci_picks_portal_project_and_task_fields(tmp_path: Path) -> None:
    async with api_client(tmp_path, projects=True) as api:
        client = api.client
        await login(client, *ADMIN)
        chosen = {"mode": "one_way", "zoho.system": "projects", "refresh": "1"}
        html = await (await client.get("/admin/scis/new", params=chosen)).text()
        portal = html.split('name="zoho.portal_id"')[1].split('<option value="')[2].split('"')[0]
        chosen["zoho.portal_id"] = portal
        html = await (await client.get("/admin/scis/new", params=chosen)).text()
        project = html.split('name="zoho.project_id"')[1].split('<option value="')[2].split('"')[0]
        values = {**chosen, "zoho.project_id": project, "zoho.module": "tasks", "id": "p-tasks",
                  "name": "Project tasks", "jira_projects": "SUP", "jira_issue_type": "Task",
                  "mappings[0].jira": "summary", "mappings[0].zoho": "name",
                  "attachments": "on"}
        html = await (await client.get("/admin/scis/new", params=values)).text()
        assert '<option value="due_date">' in html and 'name="zoho.workdrive_folder"' in html
        del values["refresh"]
        response = await client.post("/admin/scis", data={**values, "csrf_token": csrf_from(html)})
        assert response.status == 400
        assert 'data-for="zoho.workdrive_folder"' in await response.text()
        values["zoho.workdrive_folder"] = "wd-folder-1"
        await client.post("/admin/scis", data={**values, "csrf_token": csrf_from(html)})
        made = api.runtime.managed["p-tasks"]
        assert (made.zoho.portal_id, made.zoho.project_id) == (portal, project)
