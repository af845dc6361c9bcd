import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.budget import RateBudget
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.oauth import MemoryTokenStore, ZohoOAuth
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.crm import CrmSettings, ZohoCrmSimulator


class Clock:
    """The CRM simulator's clock, moved by the test (starts at the real time)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Crm:
    accounts: ZohoAccountsSimulator
    sim: ZohoCrmSimulator
    url: str
    oauth: ZohoOAuth
    client: ZohoCrmClient
    session: aiohttp.ClientSession
    clock: Clock


@pytest.fixture
async def crm() -> AsyncIterator[Crm]:
    accounts = ZohoAccountsSimulator()
    clock = Clock()
    sim = ZohoCrmSimulator(accounts, settings=CrmSettings(clock=clock))
    async with TestServer(accounts.app()) as accounts_server, \
            TestServer(sim.app()) as crm_server, aiohttp.ClientSession() as session:
        url = str(crm_server.make_url("")).rstrip("/")
        accounts.api_domain = url
        oauth = ZohoOAuth("crm", client_id=accounts.client_id,
                          client_secret=accounts.client_secret,
                          accounts_url=str(accounts_server.make_url("")).rstrip("/"),
                          session=session, store=MemoryTokenStore())
        await oauth.use_refresh_token(accounts.issue_refresh_token())
        budget = RateBudget("zoho-crm", rate=1000, burst=100, max_concurrent=10)
        client = ZohoCrmClient.connect(url, oauth, session, budget)
        yield Crm(accounts, sim, url, oauth, client, session, clock)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict]]]:
    seen: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/zoho/notify", handle)
    async with TestServer(app) as server:
        yield str(server.make_url("/zoho/notify")), seen


def raw_headers(crm: Crm, scopes: list[str] | None = None) -> dict[str, str]:
    """A valid token of its own (with ``scopes`` when given) for raw requests."""
    refresh = crm.accounts.issue_refresh_token(scopes)
    return {"Authorization": f"Zoho-oauthtoken {crm.accounts.issue_access_token(refresh)}"}


async def raw_call(crm: Crm, method: str, path: str, *, headers: dict[str, str] | None = None,
                **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    async with crm.session.request(method, f"{crm.url}{path}",
                                   headers=raw_headers(crm) if headers is None else headers,
                                   **kwargs) as response:
        body = await response.read()
        return response.status, dict(response.headers), (await response.json()
                                                          if body else None)
