"""The JSON admin API: every endpoint, its auth failures and its problem answers."""

import time
from pathlib import Path

import pytest

from bridge.admin.tokens import create_token
from bridge.store import SyncEntry
from bridge.ui.openapi import document
from tests.api.conftest import api_client
from tests.api.harness import ADMIN
from tests.api.test_panel_api import PANEL_ENDPOINTS, SCI_LINKS

PROBLEM = "application/problem+json"
METADATA_ENDPOINTS = [
    ("GET", "/api/v1/metadata/jira/projects"), ("GET", "/api/v1/metadata/jira/projects/SUP"),
    ("GET", "/api/v1/metadata/jira/fields"), ("GET", "/api/v1/metadata/zoho/crm/modules"),
    ("GET", "/api/v1/metadata/zoho/crm/modules/Cases/fields"),
    ("GET", "/api/v1/metadata/zoho/projects/portals"),
    ("GET", "/api/v1/metadata/zoho/projects/portals/P1/projects"),
]
ADMIN_ENDPOINTS = [
    ("GET", "/api/v1/connections"), ("GET", "/api/v1/connections/jira"),
    ("POST", "/api/v1/connections/jira/test"), ("POST", "/api/v1/connections/jira/connect"),
    ("POST", "/api/v1/connections/jira/revoke"), ("GET", "/api/v1/scis"),
    ("GET", "/api/v1/scis/support-cases"), ("POST", "/api/v1/scis/support-cases/sync-now"),
    ("GET", "/api/v1/scis/support-cases/history"), ("GET", "/api/v1/dead-letters"),
    ("POST", "/api/v1/dead-letters/1/replay"), ("POST", "/api/v1/dead-letters/replay-all"),
    ("DELETE", "/api/v1/dead-letters/1"), ("POST", "/api/v1/scis"),
    ("PUT", "/api/v1/scis/support-cases"), ("DELETE", "/api/v1/scis/support-cases"),
    ("POST", "/api/v1/scis/support-cases/pause"), ("POST", "/api/v1/scis/support-cases/resume"),
    ("POST", "/api/v1/scis/support-cases/backfill"),
    *METADATA_ENDPOINTS,
]


def test_every_documented_operation_is_covered_here() -> None:
    documented = {(method.upper(), path) for path, item in document()["paths"].items()
                  for method in item}
    tested = {(m, p.replace("/connections/jira", "/connections/{name}")
               .replace("/support-cases", "/{sci_id}")
               .replace("/1/", "/{dead_id}/").replace("/dead-letters/1", "/dead-letters/{dead_id}")
               .replace("/SUP-1", "/{issue_key}").replace("/abc", "/{link_id}")
               .replace("/projects/SUP", "/projects/{key}").replace("/Cases/", "/{module}/")
               .replace("/P1/", "/{portal}/"))
              for m, p in [*ADMIN_ENDPOINTS, *PANEL_ENDPOINTS, SCI_LINKS]}
    assert documented - {("GET", "/api/v1/me")} == tested


async def test_without_credentials_every_endpoint_is_401_problem(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        for method, path in [*ADMIN_ENDPOINTS, ("GET", "/api/v1/me"),
                             ("GET", "/api/v1/openapi.json")]:
            response = await api.client.request(method, path)
            assert response.status == 401, path
            assert response.content_type == PROBLEM
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert (await response.json(content_type=None))["status"] == 401
        assert await api.runtime.store.list_dead_letters() != []  # nothing was replayed


async def test_unknown_or_malformed_token_is_401(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        for token in ("bzt_not-a-real-token", "garbage", api.token + "x"):
            status, body = await api.call("GET", "/api/v1/scis", token=token)
            assert status == 401 and body["title"] == "Authentication required"


async def test_user_role_cannot_reach_admin_endpoints(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        _, user_token = await create_token(api.runtime.store, "user")
        for method, path in ADMIN_ENDPOINTS:
            status, body = await api.call(method, path, token=user_token)
            assert status == 403, path
            assert "admin" in body["detail"]
        status, me = await api.call("GET", "/api/v1/me", token=user_token)
        assert status == 200 and me["role"] == "user" and me["via"] == "token"
        assert len(await api.runtime.store.list_dead_letters()) == 2


async def test_connections_show_settings_but_never_secrets(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        response = await api.client.get("/api/v1/connections", headers=api.auth())
        text = await response.text()
        config = api.runtime.config
        assert config.zoho.crm is not None and config.jira is not None
        for secret in (config.zoho.crm.client_secret, config.zoho.crm.refresh_token,
                       config.jira.api_token, config.jira.webhook_secret):
            assert str.__str__(secret) not in text
        by_name = {c["name"]: c for c in await response.json()}
        assert by_name["jira"]["health"] == "unchecked"
        assert by_name["zoho.projects"]["health"] == "not_configured"
        crm = by_name["zoho.crm"]
        assert crm["client_id"] == config.zoho.crm.client_id and crm["data_center"] == "EU"
        assert "ZohoCRM.modules.ALL" in crm["required_scopes"]


async def test_test_connection_probes_and_reports(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, jira = await api.call("POST", "/api/v1/connections/jira/test")
        assert status == 200 and jira["health"] == "ok" and jira["problem"] == ""
        status, crm = await api.call("GET", "/api/v1/connections/zoho.crm")
        assert crm["health"] == "ok" and crm["token_stored"] and crm["granted_scopes"]
        # The simulator grants no Zoho Files scope: the answer says which scope is missing.
        assert crm["missing_scopes"] == ["ZohoFiles.files.READ"]
        assert "ZohoCRM.modules.notes.ALL" not in crm["missing_scopes"]  # covered by .ALL
        status, body = await api.call("POST", "/api/v1/connections/nope/test")
        assert status == 404 and "nope" in body["detail"]


async def test_scis_list_and_detail(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, scis = await api.call("GET", "/api/v1/scis")
        assert status == 200
        support = next(s for s in scis if s["id"] == "support-cases")
        assert support["mode"] == "two_way" and support["mappings"] == 2
        assert support["rule"] == "Status equals Escalated → In Progress, else To Do"
        assert support["origin"] == "config" and support["read_only"]
        assert support["dead_letters"] == 0 and support["actor"]["state"] == "running"
        legacy = next(s for s in scis if s["id"] == "legacy-invoices")
        assert legacy["dead_letters"] == 2 and legacy["actor"]["state"] == "not_running"
        assert {e["direction"] for e in support["latest"]} == {"jira_to_zoho", "zoho_to_jira"}
        status, detail = await api.call("GET", "/api/v1/scis/engineering-deals")
        assert status == 200 and detail["definition"]["preview_fields"][0] == "Deal_Name"
        status, body = await api.call("GET", "/api/v1/scis/missing")
        assert status == 404 and body["title"] == "Not found"


async def test_sync_now_reaches_the_actor(tmp_path: Path, eventually) -> None:
    async with api_client(tmp_path) as api:
        status, body = await api.call("POST", "/api/v1/scis/support-cases/sync-now")
        assert status == 202 and body["accepted"]

        async def polled() -> bool:
            entries = await api.runtime.store.recent_syncs("support-cases")
            return any(e.summary.startswith("manual:") for e in entries)

        await eventually(polled)
        status, body = await api.call("POST", "/api/v1/scis/missing/sync-now")
        assert status == 404


async def test_backfill_reads_the_whole_source_again(tmp_path: Path, eventually) -> None:
    async with api_client(tmp_path) as api:
        status, body = await api.call("POST", "/api/v1/scis/support-cases/backfill")
        assert status == 202 and body["detail"].startswith("backfill started")

        async def recorded() -> bool:
            entries = await api.runtime.store.recent_syncs("support-cases")
            return any(e.summary.startswith("backfill:") for e in entries)

        await eventually(recorded)
        assert float(await api.runtime.store.get_cursor("support-cases", "zoho_modified")
                     or 0) > 0  # the cursor moved on again after the full read
        status, body = await api.call("POST", "/api/v1/scis/engineering-deals/backfill")
        assert status == 409 and "display item" in body["detail"]
        status, body = await api.call("GET", "/api/v1/scis/support-cases")
        assert body["summary"]["links"] == 0 and body["summary"]["outbox_depth"] == 0


async def test_sync_now_is_refused_without_a_running_actor(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        await api.runtime.supervisor.stop("engineering-deals", 1)
        status, body = await api.call("POST", "/api/v1/scis/engineering-deals/sync-now")
        assert status == 409 and "no running actor" in body["detail"]


async def test_history_filters_and_bad_parameters(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        path = "/api/v1/scis/support-cases/history"
        status, entries = await api.call("GET", path)
        assert status == 200 and len(entries) == 3
        assert entries[0]["finished_at"] >= entries[-1]["finished_at"]  # newest first
        _, errors = await api.call("GET", path, params={"errors_only": "true"})
        assert [e["errors"] for e in errors] == [1]
        _, inbound = await api.call("GET", path, params={"direction": "zoho_to_jira"})
        assert [e["direction"] for e in inbound] == ["zoho_to_jira"]
        _, one = await api.call("GET", path, params={"limit": "1"})
        assert len(one) == 1
        _, none = await api.call("GET", path, params={"conflicts_only": "true"})
        assert none == []
        conflict = ("SUP-1 ↔ 5725767000000412001: summary changed on both sides; zoho wins "
                    "(latest): Jira 'Printer jam', Zoho 'Printer on fire'")
        await api.runtime.store.record_sync(SyncEntry(
            sci_id="support-cases", direction="zoho_to_jira", started_at=time.time(),
            finished_at=time.time(), changes=1, errors=0, summary=conflict))
        _, conflicts = await api.call("GET", path, params={"conflicts_only": "true"})
        assert [e["summary"] for e in conflicts] == [conflict]
        for params in ({"limit": "0"}, {"limit": "x"}, {"direction": "sideways"},
                       {"errors_only": "yes"}, {"conflicts_only": "1"}):
            status, body = await api.call("GET", path, params=params)
            assert status == 400 and body["status"] == 400, params


async def test_dead_letters_replay_discard(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        store = api.runtime.store
        status, letters = await api.call("GET", "/api/v1/dead-letters",
                                         params={"sci": "legacy-invoices"})
        assert status == 200 and [d["operation"] for d in letters] == ["WriteLinkNote"] * 2
        first, second = letters[0]["id"], letters[1]["id"]
        status, body = await api.call("POST", f"/api/v1/dead-letters/{first}/replay")
        assert status == 200 and body["replayed"] == [first]
        assert [d.id for d in await store.list_dead_letters()] == [second]
        assert await store.outbox_depth("legacy-invoices") == 1
        status, body = await api.call("POST", f"/api/v1/dead-letters/{first}/replay")
        assert status == 404
        status, _ = await api.call("DELETE", f"/api/v1/dead-letters/{second}")
        assert status == 204 and await store.list_dead_letters() == []
        status, _ = await api.call("DELETE", f"/api/v1/dead-letters/{second}")
        assert status == 404
        status, _ = await api.call("DELETE", f"/api/v1/dead-letters/{2**70}")
        assert status == 404


async def test_replay_all(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, body = await api.call("POST", "/api/v1/dead-letters/replay-all",
                                      params={"sci": "engineering-deals"})
        assert status == 200 and body["replayed"] == []
        status, body = await api.call("POST", "/api/v1/dead-letters/replay-all")
        assert status == 200 and len(body["replayed"]) == 2
        assert await api.runtime.store.list_dead_letters() == []


async def test_session_callers_need_the_csrf_header(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        page = await api.client.get("/login")
        token = (await page.text()).split('name="csrf_token" value="')[1].split('"')[0]
        signed_in = await api.client.post(
            "/login", data={"name": ADMIN[0], "password": ADMIN[1], "csrf_token": token},
            allow_redirects=False)
        assert signed_in.status == 303
        me = await (await api.client.get("/api/v1/me")).json()
        assert me == {"name": ADMIN[0], "role": "admin", "via": "session"}
        refused = await api.client.post("/api/v1/dead-letters/replay-all")
        assert refused.status == 403 and refused.content_type == PROBLEM
        assert len(await api.runtime.store.list_dead_letters()) == 2
        csrf = (await api.client.get("/admin/dead-letters")).cookies  # session kept
        assert csrf is not None
        allowed = await api.client.post("/api/v1/dead-letters/replay-all",
                                        headers={"X-CSRF-Token": token})
        assert allowed.status == 403  # sign-in rotated the token: the old one is dead
        fresh = (await (await api.client.get("/admin/dead-letters")).text()).split(
            'name="csrf_token" value="')[1].split('"')[0]
        allowed = await api.client.post("/api/v1/dead-letters/replay-all",
                                        headers={"X-CSRF-Token": fresh})
        assert allowed.status == 200


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/scis/a/b/c"])
async def test_unknown_api_routes_are_problems(tmp_path: Path, path: str) -> None:
    async with api_client(tmp_path) as api:
        response = await api.client.get(path, headers=api.auth())
        assert response.status == 404 and response.content_type == PROBLEM


async def test_an_unexpected_failure_is_a_problem_too(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        for actor in api.runtime.supervisor.snapshot():  # nothing else may use the store
            await api.runtime.supervisor.stop(actor.id, 1)
        await api.runtime.store.close()  # the store goes away under the API
        status, body = await api.call("GET", "/api/v1/scis")
        assert status == 500 and body["title"] == "Internal error"
        await api.runtime.store.open()
