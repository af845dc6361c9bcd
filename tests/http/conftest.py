"""The real webhook app on a real loopback socket, with its store, for edge tests."""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from actors.supervisor import Supervisor
from bridge.config import Config
from bridge.http.app import build_app, server_options
from bridge.http.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign
from bridge.runtime import Runtime
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

SECRET = "edge-secret"
SCIS = [{"id": "sup-task", "name": "Support tasks", "mode": "two_way", "jira_projects": ["SUP"],
         "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"}}]


def edge_config(**http: Any) -> Config:
    return msgspec.convert(
        {"http": http,
         "jira": {"site_url": "https://x.atlassian.net", "webhook_secret": SECRET},
         "sci": SCIS},
        Config,
    )


def jira_event(key: str = "SUP-1", **extra: Any) -> dict[str, Any]:
    return {"webhookEvent": "jira:issue_updated",
            "issue": {"key": key, "fields": {"project": {"key": "SUP"},
                                             "issuetype": {"name": "Task"}}},
            **extra}


class Edge:
    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client, self.runtime = client, runtime
        self._deliveries = 0

    async def deliver(self, body: bytes) -> ClientResponse:
        """POST a correctly signed delivery with a fresh delivery id."""
        self._deliveries += 1
        headers = {SIGNATURE_HEADER: sign(SECRET, body),
                   DELIVERY_HEADER: f"edge-{self._deliveries}",
                   "Content-Type": "application/json"}
        async with self.client.post("/webhooks/jira", data=body, headers=headers) as response:
            await response.read()
            return response

    async def pending(self) -> int:
        return len(await self.runtime.store.inbox_pending("sup-task"))


@asynccontextmanager
async def serving(db: Path, config: Config | None = None,
                  store: SqliteStore | None = None) -> AsyncIterator[Edge]:
    """The app for ``config`` on a loopback port, with the daemon's server options."""
    config = config or edge_config()
    async with AsyncExitStack() as stack:
        if store is None:
            store = SqliteStore(db, SecretBox(SecretBox.generate_key()))
            await store.open()
            stack.push_async_callback(store.close)
        runtime = Runtime(config=config, store=store, supervisor=Supervisor(),
                          migrations_done=True)
        server = TestServer(build_app(runtime))
        await server.start_server(**server_options(config.http))
        client = await stack.enter_async_context(TestClient(server))
        yield Edge(client, runtime)


EdgeFactory = Callable[..., Any]


@pytest.fixture
async def edge_factory(tmp_path: Path) -> AsyncIterator[EdgeFactory]:
    """``await edge_factory(config)`` serves the app until the test ends."""
    async with AsyncExitStack() as stack:
        async def start(config: Config | None = None, store: SqliteStore | None = None) -> Edge:
            db = tmp_path / f"edge-{len(list(tmp_path.glob('edge-*.db')))}.db"
            return await stack.enter_async_context(serving(db, config, store))

        yield start


@pytest.fixture
async def edge(edge_factory: EdgeFactory) -> Edge:
    return await edge_factory()
