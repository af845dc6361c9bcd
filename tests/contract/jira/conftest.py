import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
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

    async def raw(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        """(status, decoded JSON body or None, headers) of a request as the bridge user."""
        token = base64.b64encode(f"{self.sim.ctx.email}:{self.sim.ctx.api_token}".encode())
        headers = {"Authorization": f"Basic {token.decode()}", **kwargs.pop("headers", {})}
        async with self.session.request(method, f"{self.url}{path}", headers=headers,
                                        **kwargs) as response:
            body = await response.read()
            decoded = msgspec.json.decode(body) if body else None
            return response.status, decoded, response.headers


@asynccontextmanager
async def serving(sim: JiraSimulator) -> AsyncIterator[Jira]:
    async with TestServer(sim.app()) as server, aiohttp.ClientSession() as session:
        url = str(server.make_url("")).rstrip("/")
        client = JiraClient.basic(url, sim.ctx.email, sim.ctx.api_token, session)
        yield Jira(sim, url, client, session)


def simulator(**options: Any) -> JiraSimulator:
    return JiraSimulator(webhook_retry_base=0.01, limits=Limits(retry_after=1), **options)


@pytest.fixture
async def jira() -> AsyncIterator[Jira]:
    async with serving(simulator()) as running:
        yield running


@pytest.fixture
def make_jira() -> Callable[..., AbstractAsyncContextManager[Jira]]:
    """A simulator with constructor options (time zone, index delay, clock…)."""
    return lambda **options: serving(simulator(**options))


@dataclass
class Receiver:
    fail_first: int = 0
    seen: list[tuple[str, str | None, bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.seen.append((request.headers["X-Atlassian-Webhook-Identifier"],
                          request.headers.get("X-Atlassian-Webhook-Retry"), body))
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        return web.Response(status=204)

    def payloads(self) -> list[dict[str, Any]]:
        return [msgspec.json.decode(body) for _, _, body in self.seen]


@asynccontextmanager
async def receiving(target: Receiver) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    async with TestServer(app) as server:
        yield str(server.make_url("/hook"))


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[str, Receiver]]:
    """A webhook endpoint that accepts everything and keeps what it got."""
    target = Receiver()
    async with receiving(target) as url:
        yield url, target
