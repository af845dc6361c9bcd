"""The issue panel's JSON API: panel data, record search, link → refresh → unlink through
the SCI's actor, auto-managed links read-only, and every auth failure."""

import time
from pathlib import Path

from bridge.admin.tokens import create_token
from bridge.store import Link, UnitOfWork
from tests.api.conftest import Api, api_client

PROBLEM = "application/problem+json"
PANEL_ENDPOINTS = [
    ("GET", "/api/v1/panel/SUP-1"), ("GET", "/api/v1/panel/SUP-1/search"),
    ("GET", "/api/v1/issues/SUP-1/links"), ("POST", "/api/v1/links"),
    ("GET", "/api/v1/links/abc"), ("DELETE", "/api/v1/links/abc"),
    ("POST", "/api/v1/links/abc/refresh"), ("GET", "/api/v1/links/abc/associated"),
]
SCI_LINKS = ("GET", "/api/v1/scis/support-cases/links")


async def case_id(api: Api, subject: str) -> str:
    status, found = await api.call("GET", "/api/v1/panel/SUP-1/search",
                                   params={"sci": "support-cases", "q": subject})
    assert status == 200, found
    return next(r["record_id"] for r in found if r["title"] == subject)


async def test_panel_shows_the_issue_and_the_scis_that_apply(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, panel = await api.call("GET", "/api/v1/panel/sup-1")
        assert status == 200
        assert panel["issue"] == {"key": "SUP-1", "summary": "Customer cannot export invoices",
                                  "project": "SUP", "issue_type": "Task"}
        assert [(s["id"], s["mode"], s["link_label"]) for s in panel["scis"]] == [
            ("support-cases", "two_way", "Link a Zoho CRM record")]
        assert panel["links"] == []
        # Display items apply by project alone; the disabled SCI for SUP bugs is left out.
        _, eng = await api.call("GET", "/api/v1/panel/ENG-1")
        assert [(s["id"], s["mode"]) for s in eng["scis"]] == [("engineering-deals", "display")]
        _, bug = await api.call("GET", "/api/v1/panel/SUP-3")
        assert bug["issue"]["issue_type"] == "Bug" and bug["scis"] == []


async def test_unknown_and_malformed_issue_keys(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, body = await api.call("GET", "/api/v1/panel/SUP-999")
        assert status == 404 and "SUP-999" in body["detail"]
        status, body = await api.call("GET", "/api/v1/panel/not a key")
        assert status == 400 and "not a Jira issue key" in body["detail"]
        status, body = await api.call("GET", "/api/v1/issues/x/links")
        assert status == 400


async def test_search_by_name_and_by_id_with_preview_fields(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, found = await api.call("GET", "/api/v1/panel/ENG-1/search",
                                       params={"sci": "engineering-deals", "q": "acme"})
        assert status == 200 and found, found
        acme = found[0]
        assert acme["title"] == "Acme renewal" and acme["sci_id"] == "engineering-deals"
        assert [f["name"] for f in acme["fields"]] == ["Deal_Name", "Stage", "Amount"]
        assert acme["url"].endswith(f"/crm/tab/Deals/{acme['record_id']}")
        _, by_id = await api.call("GET", "/api/v1/panel/ENG-1/search",
                                  params={"sci": "engineering-deals", "q": acme["record_id"]})
        assert by_id[0]["record_id"] == acme["record_id"]
        status, body = await api.call("GET", "/api/v1/panel/ENG-1/search",
                                      params={"sci": "engineering-deals", "q": "a"})
        assert status == 400 and "at least 2 characters" in body["detail"]
        status, body = await api.call("GET", "/api/v1/panel/ENG-1/search",
                                      params={"sci": "support-cases", "q": "acme"})
        assert status == 404 and "applies to ENG-1" in body["detail"]
        # A display item links too; its card previews the item's preview_fields.
        status, made = await api.call("POST", "/api/v1/links", json={
            "sci_id": "engineering-deals", "issue_key": "eng-1",
            "record_id": acme["record_id"]})
        assert status == 201 and made["jira_issue_key"] == "ENG-1", made
        _, panel = await api.call("GET", "/api/v1/panel/ENG-1")
        (card,) = panel["links"]
        assert {f["name"]: f["value"] for f in card["record"]["fields"]} == {
            "Deal_Name": "Acme renewal", "Stage": "Qualification", "Amount": "12000.0"}


async def test_link_refresh_unlink_through_the_actor(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        record = await case_id(api, "Invoices fail to export")
        status, made = await api.call("POST", "/api/v1/links", json={
            "sci_id": "support-cases", "issue_key": "SUP-1", "record_id": record})
        assert status == 201, made
        assert made["zoho_record_id"] == record and made["origin"] == "manual"
        assert not made["read_only"] and made["synced_at"] > 0
        assert made["last"]["link_id"] == made["id"]
        _, panel = await api.call("GET", "/api/v1/panel/SUP-1")
        (card,) = panel["links"]
        assert card["record"]["title"] == "Invoices fail to export"
        assert {f["name"] for f in card["record"]["fields"]} == {"Subject", "Priority"}
        _, by_issue = await api.call("GET", "/api/v1/issues/SUP-1/links")
        _, by_sci = await api.call("GET", "/api/v1/scis/support-cases/links")
        assert [lk["id"] for lk in by_issue] == [lk["id"] for lk in by_sci] == [made["id"]]
        status, again = await api.call("POST", "/api/v1/links", json={
            "sci_id": "support-cases", "issue_key": "SUP-2", "record_id": record})
        assert status == 409 and "already linked to SUP-1" in again["detail"]

        status, refreshed = await api.call("POST", f"/api/v1/links/{made['id']}/refresh")
        assert status == 200 and refreshed["synced_at"] >= made["synced_at"]
        status, gone = await api.call("DELETE", f"/api/v1/links/{made['id']}")
        assert status == 200 and "SUP-1 is no longer linked" in gone["detail"]
        assert await api.runtime.store.get_link(made["id"]) is None
        status, _ = await api.call("GET", f"/api/v1/links/{made['id']}")
        assert status == 404


async def test_associated_records_are_cached_per_link_and_refreshed(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        _, found = await api.call("GET", "/api/v1/panel/ENG-1/search",
                                  params={"sci": "engineering-deals", "q": "acme"})
        status, made = await api.call("POST", "/api/v1/links", json={
            "sci_id": "engineering-deals", "issue_key": "ENG-1",
            "record_id": found[0]["record_id"]})
        assert status == 201, made
        status, first = await api.call("GET", f"/api/v1/links/{made['id']}/associated")
        assert status == 200, first
        groups = {g["name"]: g["items"] for g in first["groups"]}
        assert list(groups) == ["Stage History", "Contact Roles", "Open tasks", "Notes",
                                "Attachments"]
        assert [i["title"] for i in groups["Stage History"]] == ["Qualification"]
        assert first["fetched_at"] > 0 and first["problem"] == ""

        _, cached = await api.call("GET", f"/api/v1/links/{made['id']}/associated")
        assert cached["fetched_at"] == first["fetched_at"]  # read from the cache
        _, panel = await api.call("GET", "/api/v1/panel/ENG-1")
        assert panel["links"][0]["associated"]["groups"] == first["groups"]
        status, refreshed = await api.call("POST", f"/api/v1/links/{made['id']}/refresh")
        assert status == 200
        assert refreshed["associated"]["fetched_at"] > first["fetched_at"]

        record = await case_id(api, "Invoices fail to export")
        _, plain = await api.call("POST", "/api/v1/links", json={
            "sci_id": "support-cases", "issue_key": "SUP-1", "record_id": record})
        status, body = await api.call("GET", f"/api/v1/links/{plain['id']}/associated")
        assert status == 409 and "associated_records is off" in body["detail"]
        assert plain.get("associated") is None


async def test_linking_is_refused_with_a_clear_reason(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        cases = [
            ({"sci_id": "support-cases", "issue_key": "SUP-3", "record_id": "1"}, 409,
             "does not apply to SUP-3"),
            ({"sci_id": "legacy-invoices", "issue_key": "SUP-3", "record_id": "1"}, 409,
             "disabled"),
            ({"sci_id": "nope", "issue_key": "SUP-1", "record_id": "1"}, 404, "no SCI"),
            ({"sci_id": "support-cases", "issue_key": "SUP-1", "record_id": "../x"}, 400,
             "$.record_id"),
            ({"sci_id": "support-cases", "issue_key": "SUP-1", "record_id": "12345"}, 409,
             "does not exist"),
            ({"sci_id": "support-cases"}, 400, "link request"),
        ]
        for body, status, detail in cases:
            got, answer = await api.call("POST", "/api/v1/links", json=body)
            assert (got, detail in answer["detail"]) == (status, True), (body, answer)
        status, answer = await api.call("POST", "/api/v1/links", data=b"{not json")
        assert status == 400
        assert await api.runtime.store.list_links("support-cases") == []


async def test_auto_managed_links_are_read_only(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        record = await case_id(api, "Invoices fail to export")
        auto = Link(id="auto1", sci_id="support-cases", jira_issue_id="10000",
                    jira_issue_key="SUP-1", zoho_record_id=record, origin="auto",
                    created_at=time.time())
        await api.runtime.store.commit(UnitOfWork(sci_id="support-cases", new_links=[auto]))
        _, (view,) = await api.call("GET", "/api/v1/issues/SUP-1/links")
        assert view["read_only"] is True
        status, body = await api.call("DELETE", "/api/v1/links/auto1")
        assert status == 409 and "auto-managed" in body["detail"]
        assert await api.runtime.store.get_link("auto1") is not None
        status, body = await api.call("POST", "/api/v1/links/auto1/refresh")
        assert status == 200 and body["origin"] == "auto"


async def test_crm_auth_trouble_says_authentication_required(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        api.runtime.connection_problems["zoho.crm"] = (
            "Zoho CRM 401 INVALID_TOKEN: invalid oauth token")
        _, panel = await api.call("GET", "/api/v1/panel/SUP-1")
        (sci,) = panel["scis"]
        assert sci["problem"].startswith("Zoho CRM authentication required")


async def test_panel_endpoints_auth_failures(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        for method, path in [*PANEL_ENDPOINTS, SCI_LINKS]:
            response = await api.client.request(method, path)
            assert response.status == 401, path
            assert response.content_type == PROBLEM
        _, user = await create_token(api.runtime.store, "user")
        for method, path in PANEL_ENDPOINTS:  # users work on the panel…
            status, _ = await api.call(method, path, token=user)
            assert status not in (401, 403), path
        status, body = await api.call(*SCI_LINKS, token=user)  # …not on SCIs
        assert status == 403 and "admin" in body["detail"]
        for method, path in PANEL_ENDPOINTS:
            status, _ = await api.call(method, path, token="bzt_forged")
            assert status == 401, path


async def test_a_link_behind_a_dead_letter_shows_as_parked(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        # The harness parks two writes of link "l1" of the (disabled) legacy-invoices SCI.
        parked = Link(id="l1", sci_id="legacy-invoices", jira_issue_id="10002",
                      jira_issue_key="SUP-3", zoho_record_id="5725767000000412001",
                      origin="manual", created_at=time.time())
        await api.runtime.store.commit(UnitOfWork(sci_id="legacy-invoices", new_links=[parked]))
        _, (view,) = await api.call("GET", "/api/v1/issues/SUP-3/links")
        assert view["parked"] is True and view["sci_name"] == "Legacy invoices"
        status, body = await api.call("POST", "/api/v1/links/l1/refresh")
        assert status == 409 and "legacy-invoices is disabled" in body["detail"]
        _, replayed = await api.call("POST", "/api/v1/dead-letters/replay-all")
        assert len(replayed["replayed"]) == 2
        _, (view,) = await api.call("GET", "/api/v1/issues/SUP-3/links")
        assert view["parked"] is False
