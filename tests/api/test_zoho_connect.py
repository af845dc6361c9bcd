"""Connecting Zoho from the admin API: the grant code is exchanged at once, mistakes are
reported plainly, the secret never comes back, and revoking forgets everything but the
SCIs and links."""

from pathlib import Path
from typing import Any

import aiohttp

from bridge.connections import app_record
from tests.api.conftest import Api, api_client

PROJECTS = "/api/v1/connections/zoho.projects"


async def grant_code(api: Api) -> str:
    async with aiohttp.ClientSession() as session, session.post(
            f"{api.sims['zoho']['accounts_url']}/_sim/grant-code") as answer:
        return str((await answer.json())["code"])


def connect_body(api: Api, code: str) -> dict[str, Any]:
    zoho = api.sims["zoho"]
    return {"data_center": "EU", "client_id": zoho["client_id"],
            "client_secret": zoho["client_secret"], "code": code,
            "accounts_url": zoho["accounts_url"], "api_url": zoho["projects_api_url"]}


async def test_connect_exchanges_the_code_and_revoke_forgets_it(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        status, before = await api.call("GET", PROJECTS)
        assert status == 200 and before["configured"] is False

        body = connect_body(api, await grant_code(api))
        status, connected = await api.call("POST", f"{PROJECTS}/connect", json=body)
        assert status == 200, connected
        assert connected["configured"] and connected["set_up_in"] == "ui"
        assert connected["token_stored"] and connected["health"] == "ok"
        assert connected["data_center"] == "EU" and connected["client_id"] == body["client_id"]
        assert body["client_secret"] not in str(connected)
        stored = await api.runtime.store.get_connection(app_record("zoho.projects"))
        assert stored is not None and stored.secrets == {"client_secret": body["client_secret"]}
        portals = await (await api.runtime.connections().projects.projects_client()).portals()
        assert len(portals) == 1  # the new connection is in use at once

        status, again = await api.call("POST", f"{PROJECTS}/connect", json=body)
        assert status == 409 and "Zoho refused the grant code" in again["detail"]
        assert "invalid, expired or revoked" in again["detail"]  # codes work once

        status, revoked = await api.call("POST", f"{PROJECTS}/revoke")
        assert status == 200 and "SCIs and links are kept" in revoked["detail"]
        status, after = await api.call("GET", PROJECTS)
        assert after["configured"] is False and after["token_stored"] is False
        assert await api.runtime.store.get_connection(app_record("zoho.projects")) is None
        status, body = await api.call("POST", f"{PROJECTS}/revoke")
        assert status == 409 and "not connected" in body["detail"]


async def test_connect_refusals_say_what_to_do(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        body = connect_body(api, await grant_code(api))
        status, answer = await api.call("POST", "/api/v1/connections/zoho.crm/connect",
                                        json=body)
        assert status == 409 and "set up in the config file" in answer["detail"]
        status, answer = await api.call("POST", f"{PROJECTS}/connect",
                                        json={**body, "client_secret": "wrong"})
        assert status == 409 and "client secret does not match" in answer["detail"]
        status, answer = await api.call("POST", f"{PROJECTS}/connect",
                                        json={**body, "data_center": "MARS"})
        assert status == 400 and "data_center" in answer["detail"]
        status, answer = await api.call("POST", f"{PROJECTS}/connect",
                                        json={**body, "accounts_url": "http://127.0.0.1:9"})
        assert status == 409 and "could not be reached" in answer["detail"]
        status, answer = await api.call("POST", "/api/v1/connections/jira/connect", json=body)
        assert status == 404
        status, after = await api.call("GET", PROJECTS)
        assert after["configured"] is False


async def test_providers_mode_needs_no_code_and_is_for_crm_only(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        body = {**connect_body(api, ""), "mode": "providers"}
        status, answer = await api.call("POST", f"{PROJECTS}/connect", json=body)
        assert status == 400 and "Zoho CRM only" in answer["detail"]
        status, answer = await api.call("POST", f"{PROJECTS}/connect",
                                        json={**body, "mode": "app"})
        assert status == 400 and answer["detail"].startswith("Code:")
