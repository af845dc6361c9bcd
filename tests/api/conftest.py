from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bridge.admin.tokens import create_token
from bridge.http.app import build_app
from bridge.runtime import Runtime
from tests.api.harness import running


class Api:
    def __init__(self, client: TestClient, runtime: Runtime, token: str,
                 sims: dict[str, Any]) -> None:
        self.client, self.runtime, self.token = client, runtime, token
        self.sims = sims  # the simulators' description (URLs, credentials)

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    async def call(self, method: str, path: str, token: str | None = None,
                   **kwargs: Any) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=self.auth(token), **kwargs)
        body = await response.json(content_type=None) if response.status != 204 else None
        return response.status, body


@asynccontextmanager
async def api_client(tmp_path: Path, **ui: Any) -> AsyncIterator[Api]:
    sims: dict[str, Any] = {}
    async with running(tmp_path, sims, **ui) as runtime:
        _, token = await create_token(runtime.store, "admin", "tests")
        async with TestClient(TestServer(build_app(runtime))) as client:
            yield Api(client, runtime, token, sims)
