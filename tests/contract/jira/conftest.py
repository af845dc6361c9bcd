from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from adapters.jira.client import JiraClient
from adapters.jira.simulator import JiraSimulator
from adapters.jira.simulator.context import Limits


@dataclass
class Jira:
    sim: JiraSimulator
    url: str
    client: JiraClient
    session: aiohttp.ClientSession


@pytest.fixture
async def jira() -> AsyncIterator[Jira]:
    sim = JiraSimulator(webhook_retry_base=0.01, limits=Limits(retry_after=1))
    async with TestServer(sim.app()) as server, aiohttp.ClientSession() as session:
        url = str(server.make_url("")).rstrip("/")
        client = JiraClient.basic(url, sim.ctx.email, sim.ctx.api_token, session)
        yield Jira(sim, url, client, session)
