from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import anyio
import pytest
from aiohttp.test_utils import TestServer

from adapters.http import StaticAuth, Transport
from adapters.zoho.projects import (
    ProjectRef,
    RecordRef,
    Throttle,
    ZohoProjectsClient,
    projects_classifier,
    projects_error,
)
from adapters.zoho.simulator.projects import ZohoProjectsSimulator

TOKEN = "1000.simulated-access-token"
AUTH = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def short_sleep(seconds: float) -> None:
    await anyio.sleep(min(seconds, 0.01))


@dataclass
class Zp:
    sim: ZohoProjectsSimulator
    url: str
    session: aiohttp.ClientSession
    client: ZohoProjectsClient
    clock: FakeClock

    @property
    def portal_id(self) -> str:
        return self.sim.portal_id

    def project(self, name: str) -> ProjectRef:
        (found,) = [p for p in self.sim.state.projects.values() if p["name"] == name]
        return ProjectRef(self.portal_id, found["id"])

    def ref(self, kind: str, name: str) -> RecordRef:
        (found,) = [r for r in self.sim.state.records[kind].values() if r["name"] == name]
        return RecordRef(self.portal_id, found["project"]["id"], kind, found["id"])

    def v3(self, path: str) -> str:
        return f"{self.url}/api/v3/portal/{self.portal_id}{path}"

    def make_client(self, throttle: Throttle | None = None,
                    token: str = TOKEN) -> ZohoProjectsClient:
        return build_client(self.url, self.session, throttle, token)


def build_client(url: str, session: aiohttp.ClientSession,
                 throttle: Throttle | None = None,
                 token: str = TOKEN) -> ZohoProjectsClient:
    # A small max_retry_after: a lock-out surfaces at once instead of being slept through.
    transport = Transport("zoho_projects", session,
                          auth=StaticAuth({"Authorization": f"Zoho-oauthtoken {token}"}),
                          classifier=projects_classifier, error_factory=projects_error,
                          max_retry_after=1.0, sleep=short_sleep)
    return ZohoProjectsClient(url, transport, workdrive_base=url, throttle=throttle)


SimFactory = Callable[..., Awaitable[Zp]]


@pytest.fixture
async def start_zp() -> AsyncIterator[SimFactory]:
    """Start a simulator (keyword arguments go to it) and a client aimed at it."""
    async with aiohttp.ClientSession() as session:
        servers: list[TestServer] = []

        async def start(**options: object) -> Zp:
            clock = FakeClock()
            options.setdefault("clock", clock)
            sim = ZohoProjectsSimulator(lambda token: token == TOKEN, **options)  # type: ignore[arg-type]
            server = TestServer(sim.app())
            await server.start_server()
            servers.append(server)
            url = str(server.make_url("")).rstrip("/")
            return Zp(sim, url, session, build_client(url, session), clock)

        yield start
        for server in servers:
            await server.close()


@pytest.fixture
async def zp(start_zp: SimFactory) -> Zp:
    return await start_zp()
