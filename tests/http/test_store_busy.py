"""A database held by another process: the webhook answers 503 + Retry-After, not 500."""

import sqlite3
from pathlib import Path

import msgspec
import structlog

from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

from .conftest import EdgeFactory, jira_event


async def test_locked_database_answers_503_with_retry_after(tmp_path: Path,
                                                            edge_factory: EdgeFactory) -> None:
    store = SqliteStore(tmp_path / "busy.db", SecretBox(SecretBox.generate_key()),
                        busy_timeout=0.05)
    await store.open()
    try:
        edge = await edge_factory(store=store)
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with structlog.testing.capture_logs() as logs:
            response = await edge.deliver(msgspec.json.encode(jira_event()))
        other.execute("ROLLBACK")
        other.close()
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        busy = [entry for entry in logs if entry["log_level"] in ("warning", "error")]
        assert [entry["event"] for entry in busy] == ["store.busy"]
        assert "exc_info" not in busy[0]
        assert (await edge.deliver(msgspec.json.encode(jira_event()))).status == 202
    finally:
        await store.close()
