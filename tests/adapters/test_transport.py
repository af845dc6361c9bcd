from collections.abc import Mapping

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.backoff import Backoff
from actors.budget import RateBudget
from adapters.http import Outcome, RemoteError, StaticAuth, Transport, parse_retry_after

NO_WAIT = Backoff(base=0.001, cap=0.002, jitter=0)


class Script:
    """A server answering from a list of (status, headers) per request, then 200."""

    def __init__(self, answers: list[tuple[int, dict[str, str]]]) -> None:
        self.answers = answers
        self.hits: list[Mapping[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(dict(request.headers))
        if self.answers:
            status, headers = self.answers.pop(0)
            return web.json_response({"error": status}, status=status, headers=headers)
        return web.json_response({"ok": True})


@pytest.fixture
async def serve():
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(script: Script, **kwargs) -> tuple[Transport, str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", script.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        kwargs.setdefault("backoff", NO_WAIT)
        return Transport("test", session, **kwargs), str(server.make_url("/thing"))

    yield start
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


async def test_retry_after_pauses_the_budget_then_succeeds(serve) -> None:
    script = Script([(429, {"Retry-After": "0.05"})])
    budget = RateBudget("acct", rate=1000, burst=10)
    transport, url = await serve(script, budget=budget)
    answer = await transport.request("POST", url, safe=False)
    assert answer.status == 200
    assert len(script.hits) == 2  # a 429 was not executed, so even a POST is repeated


async def test_transient_errors_retried_only_when_safe(serve) -> None:
    script = Script([(502, {}), (503, {}), (500, {})])
    transport, url = await serve(script)
    with pytest.raises(RemoteError) as info:
        await transport.request("POST", url)  # not idempotent: no retry on 500
    # 502 for POST: transient and unsafe → raised at once
    assert info.value.status == 502 and info.value.outcome is Outcome.TRANSIENT
    assert len(script.hits) == 1
    script.answers = [(502, {}), (500, {})]
    answer = await transport.request("GET", url)
    assert answer.status == 200 and len(script.hits) == 4


async def test_gives_up_after_max_attempts(serve) -> None:
    script = Script([(500, {})] * 10)
    transport, url = await serve(script, max_attempts=3)
    with pytest.raises(RemoteError):
        await transport.request("GET", url)
    assert len(script.hits) == 3


class RefreshingAuth:
    def __init__(self) -> None:
        self.token = "old"
        self.refreshes = 0

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Zoho-oauthtoken {self.token}"}

    async def refresh_after_rejection(self, rejected: Mapping[str, str]) -> bool:
        self.refreshes += 1
        self.token = "new"
        return True


async def test_auth_rejection_refreshes_once_then_gives_up(serve) -> None:
    script = Script([(401, {})])
    auth = RefreshingAuth()
    transport, url = await serve(script, auth=auth)
    assert (await transport.request("GET", url)).status == 200
    assert [h["Authorization"] for h in script.hits] == [
        "Zoho-oauthtoken old", "Zoho-oauthtoken new"]
    script.answers = [(401, {}), (401, {}), (401, {})]
    with pytest.raises(RemoteError) as info:
        await transport.request("GET", url)
    assert info.value.needs_attention
    assert auth.refreshes == 2  # one more refresh, then no retry storm


async def test_static_auth_rejection_is_final(serve) -> None:
    script = Script([(401, {})])
    transport, url = await serve(script, auth=StaticAuth({"Authorization": "Basic x"}))
    with pytest.raises(RemoteError) as info:
        await transport.request("GET", url)
    assert info.value.outcome is Outcome.AUTH and len(script.hits) == 1
    assert "Basic x" not in repr(transport.auth)


async def test_connection_refused_is_transient(serve) -> None:
    async with aiohttp.ClientSession() as session:
        transport = Transport("test", session, backoff=NO_WAIT, max_attempts=2)
        with pytest.raises(RemoteError) as info:
            await transport.request("GET", "http://127.0.0.1:9/x?token=secret")
    assert info.value.outcome is Outcome.TRANSIENT
    assert "secret" not in str(info.value)


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
