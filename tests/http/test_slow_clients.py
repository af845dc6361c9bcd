"""Slow, idle and greedy clients over raw sockets: none may hold the daemon's resources."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import SocketStream

from bridge.http.keys import BODY_SLOTS
from bridge.http.webhooks import SIGNATURE_HEADER

from .conftest import Edge, EdgeFactory, edge_config

DEADLINE = 10.0  # a server that keeps a connection past this is holding it indefinitely
SIGNED = f"{SIGNATURE_HEADER}: sha256={'0' * 64}\r\n"


def head(content_length: int, extra: str = SIGNED) -> bytes:
    return (f"POST /webhooks/jira HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
            f"Content-Length: {content_length}\r\n{extra}\r\n").encode()


@asynccontextmanager
async def connection(edge: Edge) -> AsyncIterator[SocketStream]:
    server = edge.client.server
    assert server.port is not None
    async with await anyio.connect_tcp(server.host, server.port) as stream:
        yield stream


async def until_closed(stream: SocketStream) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    with anyio.fail_after(DEADLINE):
        while True:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return received


async def test_head_never_finished_is_closed(edge_factory: EdgeFactory) -> None:
    edge = await edge_factory(edge_config(header_timeout=0.2))
    async with connection(edge) as stream:
        await stream.send(b"POST /webhooks/jira HTTP/1.1\r\nHost: bridge\r\n")
        assert await until_closed(stream) == b""


async def test_idle_keep_alive_connection_is_closed(edge_factory: EdgeFactory) -> None:
    edge = await edge_factory(edge_config(header_timeout=0.2))
    async with connection(edge) as stream:
        await stream.send(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n")
        answer = await until_closed(stream)
    assert answer.startswith(b"HTTP/1.1 200")


async def test_body_stalled_midway_gets_408_and_is_closed(edge_factory: EdgeFactory) -> None:
    edge = await edge_factory(edge_config(body_timeout=0.2))
    async with connection(edge) as stream:
        await stream.send(head(1000) + b'{"webhookEvent": ')
        answer = await until_closed(stream)
    assert answer.startswith(b"HTTP/1.1 408")
    assert await edge.pending() == 0


async def test_unsigned_body_is_refused_before_it_is_sent(edge: Edge) -> None:
    async with connection(edge) as stream:
        await stream.send(head(1_000_000, extra=""))  # and never a byte of the body
        assert (await until_closed(stream)).startswith(b"HTTP/1.1 401")


async def test_declared_oversize_body_is_refused_before_it_is_sent(edge: Edge) -> None:
    async with connection(edge) as stream:
        await stream.send(head(50_000_000))
        assert (await until_closed(stream)).startswith(b"HTTP/1.1 413")


async def test_bodies_in_flight_are_bounded_and_health_stays_responsive(
        edge_factory: EdgeFactory) -> None:
    edge = await edge_factory(edge_config(max_inflight_bodies=2, body_timeout=60))
    async with connection(edge) as first, connection(edge) as second:
        for stalled in (first, second):
            await stalled.send(head(100_000) + b"{")
        with anyio.fail_after(DEADLINE):  # both have taken their slot
            while not edge.client.app[BODY_SLOTS].locked():
                await anyio.sleep(0.01)
        async with connection(edge) as third:
            await third.send(head(100_000) + b"{")
            refused = await until_closed(third)
        health = await edge.client.get("/healthz")
        assert health.status == 200
    assert refused.startswith(b"HTTP/1.1 503")
    assert b"\r\nRetry-After: 1\r\n" in refused
