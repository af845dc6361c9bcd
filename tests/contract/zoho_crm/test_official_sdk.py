"""The official Zoho CRM SDK (zohocrmsdk8-0), unmodified, against our simulators.

Its Initializer is process-global, so the scenario runs in its own process."""

import json
import sys
from pathlib import Path

import anyio
from aiohttp.test_utils import TestServer

from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.crm import ZohoCrmSimulator

SCENARIO = Path(__file__).with_name("sdk_scenario.py")


async def test_official_sdk_refresh_records_and_notes(tmp_path: Path) -> None:
    accounts = ZohoAccountsSimulator()
    crm = ZohoCrmSimulator(accounts)
    async with TestServer(accounts.app()) as accounts_server, \
            TestServer(crm.app()) as crm_server:
        api = str(crm_server.make_url("")).rstrip("/")
        accounts.api_domain = api  # never a real Zoho domain: the SDK would switch to it
        result = await anyio.run_process(
            [sys.executable, str(SCENARIO), api,
             str(accounts_server.make_url("")).rstrip("/"), accounts.client_id,
             accounts.client_secret, accounts.issue_refresh_token()],
            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    seen = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert seen["get_status"] == 200
    assert seen["deals"] == ["Acme renewal", "Globex expansion"]
    assert seen["create_status"] == 201
    assert crm.store.records["Deals"][seen["created_id"]]["Stage"] == "Qualification"
    assert seen["note_status"] == 201
    assert seen["notes"] == ["Linked to SUP-1"]
    assert accounts.refresh_hits == 1  # the SDK refreshed once with our refresh token
