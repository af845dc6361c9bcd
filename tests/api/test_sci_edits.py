"""SCIs made, changed, paused and deleted through the JSON API: validated as the config
loader validates, applied at once to the running actors, config-declared SCIs untouched."""

from pathlib import Path
from typing import Any

from tests.api.conftest import api_client

DEFINITION: dict[str, Any] = {
    "id": "sales-deals", "name": "Sales ⇄ Deals", "mode": "two_way",
    "jira_projects": ["ENG"], "jira_issue_type": "Task",
    "zoho": {"system": "crm", "module": "Deals"},
    "mappings": [{"jira": "summary", "zoho": "Deal_Name"}],
}


async def test_an_sci_made_in_the_api_runs_at_once_and_can_be_changed(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, made = await api.call("POST", "/api/v1/scis", json=DEFINITION)
        assert status == 201, made
        assert made["summary"]["origin"] == "ui" and not made["summary"]["read_only"]
        assert api.runtime.supervisor.info("sales-deals") is not None

        changed = {**DEFINITION, "name": "Sales deals", "comments": True}
        status, body = await api.call("PUT", "/api/v1/scis/sales-deals", json=changed)
        assert status == 200 and body["definition"]["comments"] is True
        status, listed = await api.call("GET", "/api/v1/scis")
        assert [s["name"] for s in listed if s["id"] == "sales-deals"] == ["Sales deals"]

        status, body = await api.call("POST", "/api/v1/scis/sales-deals/pause")
        assert status == 200 and body["summary"]["enabled"] is False
        assert api.runtime.supervisor.info("sales-deals") is None
        status, body = await api.call("POST", "/api/v1/scis/sales-deals/resume")
        assert status == 200 and api.runtime.supervisor.info("sales-deals") is not None


async def test_a_bad_definition_names_the_key_like_the_config_loader(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        wrong = {**DEFINITION, "zoho": {"system": "crm", "module": "Deals",
                                        "portal_id": "1"}}
        status, body = await api.call("POST", "/api/v1/scis", json=wrong)
        assert status == 400 and body["title"] == "Invalid SCI"
        assert body["field"] == "zoho"
        assert body["detail"].startswith("config key `zoho`: portal_id/project_id")
        status, body = await api.call("POST", "/api/v1/scis",
                                      json={**DEFINITION, "mode": "sideways"})
        assert status == 400 and body["field"] == "mode" and "allowed:" in body["detail"]
        status, body = await api.call("POST", "/api/v1/scis", data=b"[1, 2")
        assert status == 400 and "SCI definition in JSON" in body["detail"]
        assert api.runtime.managed == {}


async def test_config_scis_and_taken_ids_are_refused(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, body = await api.call("POST", "/api/v1/scis",
                                      json={**DEFINITION, "id": "support-cases"})
        assert status == 409 and "exists already" in body["detail"]
        for method, path in (("PUT", "/api/v1/scis/support-cases"),
                             ("POST", "/api/v1/scis/support-cases/pause"),
                             ("DELETE", "/api/v1/scis/support-cases")):
            status, body = await api.call(method, path, json=DEFINITION)
            assert status == 409 and "config file" in body["detail"], path
        status, _ = await api.call("DELETE", "/api/v1/scis/missing")
        assert status == 404
        await api.call("POST", "/api/v1/scis", json=DEFINITION)
        status, body = await api.call("PUT", "/api/v1/scis/sales-deals",
                                      json={**DEFINITION, "id": "renamed"})
        assert status == 400 and body["field"] == "id"


async def test_deleting_keeps_or_removes_the_links(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        store = api.runtime.store
        await api.call("POST", "/api/v1/scis", json=DEFINITION)
        await store.create_link("sales-deals", "10001", "ENG-1", "5725767000000412001", "manual")
        status, body = await api.call("DELETE", "/api/v1/scis/sales-deals?links=keep")
        assert status == 200 and body == {"sci_id": "sales-deals", "links_kept": True}
        assert api.runtime.supervisor.info("sales-deals") is None
        status, _ = await api.call("GET", "/api/v1/scis/sales-deals")
        assert status == 404
        assert len(await store.list_links("sales-deals")) == 1

        status, _ = await api.call("POST", "/api/v1/scis", json=DEFINITION)  # picks them up
        assert status == 201 and len(await store.list_links("sales-deals")) == 1
        status, body = await api.call("DELETE", "/api/v1/scis/sales-deals?links=remove")
        assert status == 200 and body["links_kept"] is False
        assert await store.list_links("sales-deals") == []
        status, body = await api.call("DELETE", "/api/v1/scis/sales-deals?links=maybe")
        assert status == 400
