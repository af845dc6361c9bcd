"""A full disk or a read-only store: the webhook answers 503 + Retry-After with a clear
reason (Jira delivers again later), nothing is half-written, and intake recovers as soon as
the store can be written again."""

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
import structlog

from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

from .conftest import EdgeFactory, jira_event


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "full.db", SecretBox(SecretBox.generate_key()))
    await opened.open()
    yield opened
    await opened.close()


async def pragma(store: SqliteStore, statement: str) -> None:
    """Set a connection PRAGMA: how these tests make the store full or read-only."""
    await store._conn.execute(statement)


async def deliveries_refused(edge, reason: str) -> None:
    with structlog.testing.capture_logs() as logs:
        response = await edge.deliver(msgspec.json.encode(jira_event()))
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    warned = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert [e["event"] for e in warned] == ["store.unavailable"]
    assert reason in warned[0]["error"] and "exc_info" not in warned[0]


async def test_a_full_disk_refuses_deliveries_until_space_returns(
        store: SqliteStore, edge_factory: EdgeFactory) -> None:
    edge = await edge_factory(store=store)
    assert (await edge.deliver(msgspec.json.encode(jira_event()))).status == 202
    pages = (await (await store._conn.execute("PRAGMA page_count")).fetchone())[0]
    await pragma(store, f"PRAGMA max_page_count = {pages}")
    big = jira_event(padding="x" * 20_000)  # needs pages the file may not grow to
    with structlog.testing.capture_logs() as logs:
        response = await edge.deliver(msgspec.json.encode(big))
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    assert any("disk is full" in e.get("error", "") for e in logs)
    await pragma(store, "PRAGMA max_page_count = 1073741823")
    assert (await edge.deliver(msgspec.json.encode(big))).status == 202
    assert await edge.pending() == 2
    check = await (await store._conn.execute("PRAGMA integrity_check")).fetchone()
    assert check[0] == "ok"


async def test_a_read_only_store_refuses_deliveries_until_writable(
        store: SqliteStore, edge_factory: EdgeFactory) -> None:
    edge = await edge_factory(store=store)
    await pragma(store, "PRAGMA query_only = ON")
    await deliveries_refused(edge, "read-only")
    await pragma(store, "PRAGMA query_only = OFF")
    assert (await edge.deliver(msgspec.json.encode(jira_event()))).status == 202
    assert await edge.pending() == 1
