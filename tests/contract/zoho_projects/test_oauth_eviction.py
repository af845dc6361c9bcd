"""Zoho deletes the oldest of a refresh token's access tokens past its cap; the evicted
token then answers ``INVALID_OAUTHTOKEN`` and our client refreshes once and goes on."""

import aiohttp
from aiohttp.test_utils import TestServer

from adapters.zoho.oauth import MemoryTokenStore, ZohoOAuth
from adapters.zoho.projects import ZohoProjectsClient
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.projects import ZohoProjectsSimulator


async def test_projects_client_survives_access_token_eviction() -> None:
    accounts = ZohoAccountsSimulator()
    projects = ZohoProjectsSimulator(accounts.is_valid_access_token)
    async with TestServer(accounts.app()) as accounts_server, \
            TestServer(projects.app()) as projects_server, \
            aiohttp.ClientSession() as session:
        oauth = ZohoOAuth("projects", client_id=accounts.client_id,
                          client_secret=accounts.client_secret,
                          accounts_url=str(accounts_server.make_url("")).rstrip("/"),
                          session=session, store=MemoryTokenStore())
        refresh = accounts.issue_refresh_token()
        await oauth.use_refresh_token(refresh)
        url = str(projects_server.make_url("")).rstrip("/")
        client = ZohoProjectsClient.connect(url, oauth, session, workdrive_base=url)
        assert await client.portals()
        ours = (await oauth.headers())["Authorization"].split()[1]
        for _ in range(accounts.access_token_cap):
            accounts.issue_access_token(refresh)
        async with session.get(f"{url}/api/v3/portals",
                               headers={"Authorization": f"Zoho-oauthtoken {ours}"}) as raw:
            assert raw.status == 401
            assert "INVALID_OAUTHTOKEN" in await raw.text()
        hits = accounts.refresh_hits
        assert await client.portals()
        assert accounts.refresh_hits == hits + 1
