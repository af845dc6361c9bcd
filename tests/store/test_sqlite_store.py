import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from bridge.secretbox import SecretBox, SecretBoxError
from bridge.store import (
    Connection,
    LinkConflict,
    OutboxDraft,
    SciRecord,
    SqliteStore,
    StoreError,
    SyncEntry,
)
from bridge.store.migrations import LATEST

KEY = SecretBox.generate_key()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "bridge.db", SecretBox(KEY))
    await store.open()
    await store.put_sci(SciRecord(id="s1", name="S1", kind="crm", definition=b"{}"))
    yield store
    await store.close()


def draft(key: str, sci: str = "s1") -> OutboxDraft:
    return OutboxDraft(sci_id=sci, idempotency_key=key, operation="update", payload=b"{}")


async def test_migrations_reach_latest_and_reopen_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    for _ in range(2):
        store = SqliteStore(path, SecretBox(KEY))
        await store.open()
        assert await store.schema_version() == LATEST
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == LATEST
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = SqliteStore(path, SecretBox(KEY))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(StoreError, match="newer than this bridge"):
        await SqliteStore(path, SecretBox(KEY)).open()


async def test_connection_secrets_encrypted_at_rest(store: SqliteStore, tmp_path: Path) -> None:
    await store.put_connection(Connection(name="crm", kind="zoho_crm", settings={"dc": "EU"},
                                          secrets={"refresh_token": "1000.supersecret"}))
    loaded = await store.get_connection("crm")
    assert loaded is not None and loaded.secrets == {"refresh_token": "1000.supersecret"}
    assert "supersecret" not in repr(loaded)
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bridge.db*"))
    assert b"supersecret" not in raw
    wrong = SqliteStore(tmp_path / "bridge.db", SecretBox(SecretBox.generate_key()))
    await wrong.open()
    with pytest.raises(SecretBoxError, match="store key differs"):
        await wrong.get_connection("crm")
    await wrong.close()
    await store.open()


async def test_connection_state_and_clearing_secrets(store: SqliteStore) -> None:
    await store.put_connection(Connection(name="jira", kind="jira", secrets={"api_token": "t"}))
    await store.set_connection_state("jira", "auth_required", "token revoked")
    await store.clear_connection_secrets("jira")
    loaded = await store.get_connection("jira")
    assert loaded is not None
    assert (loaded.state, loaded.state_message, loaded.secrets) == (
        "auth_required", "token revoked", {})
    assert [c.name for c in await store.list_connections()] == ["jira"]


async def test_invalid_key_is_a_clear_error() -> None:
    with pytest.raises(SecretBoxError, match="not a valid Fernet key"):
        SecretBox(b"short")


async def test_links_are_unique_per_side(store: SqliteStore) -> None:
    link = await store.create_link("s1", "10001", "SUP-1", "z-1", "manual")
    with pytest.raises(LinkConflict, match="SUP-1"):
        await store.create_link("s1", "10001", "SUP-1", "z-2", "manual")
    with pytest.raises(LinkConflict):
        await store.create_link("s1", "10002", "SUP-2", "z-1", "auto")
    assert await store.find_link("s1", zoho_record_id="z-1") == link
    assert await store.find_link("s1", jira_issue_id="10001") == link
    await store.put_synced_state(link.id, b'{"summary":"a"}')
    await store.put_synced_state(link.id, b'{"summary":"b"}')
    assert await store.get_synced_state(link.id) == b'{"summary":"b"}'
    await store.delete_link(link.id)
    assert await store.list_links("s1") == []
    assert await store.get_synced_state(link.id) is None  # cascaded


async def test_concurrent_duplicate_deliveries_store_exactly_once(store: SqliteStore) -> None:
    results: list[int | None] = []

    async def append() -> None:
        results.append(await store.inbox_append("jira", "same-id", b"{}", ["s1"]))

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(append)
    assert len([r for r in results if r is not None]) == 1
    assert await store.inbox_depth("s1") == 1


async def test_inbox_finish_enqueues_outbox_atomically(store: SqliteStore) -> None:
    event_id = await store.inbox_append("jira", "d1", b"payload", ["s1", "s2"])
    assert event_id is not None
    await store.inbox_finish(event_id, "s1", "done", "applied", enqueue=[draft("k1")])
    assert await store.inbox_pending("s1") == []
    assert [i.event_id for i in await store.inbox_pending("s2")] == [event_id]
    assert [i.idempotency_key for i in await store.outbox_due("s1", now=1e12)] == ["k1"]
    assert await store.inbox_oldest_age("s2", now=1e12) > 0


async def test_failed_transaction_leaves_nothing(store: SqliteStore) -> None:
    event_id = await store.inbox_append("jira", "d1", b"p", ["s1"])
    assert event_id is not None
    bad = OutboxDraft(sci_id="s1", idempotency_key="k", operation="op", payload=None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        await store.inbox_finish(event_id, "s1", "done", enqueue=[draft("ok"), bad])
    assert await store.inbox_depth("s1") == 1
    assert await store.outbox_depth("s1") == 0


async def test_idempotency_keys_survive_completion(store: SqliteStore) -> None:
    assert await store.outbox_put(draft("k1"))
    assert not await store.outbox_put(draft("k1"))
    (item,) = await store.outbox_due("s1", now=1e12)
    await store.outbox_done(item.id)
    assert not await store.outbox_put(draft("k1"))  # already applied once
    assert await store.outbox_depth("s1") == 0


async def test_retry_dead_letter_and_replay(store: SqliteStore) -> None:
    await store.outbox_put(draft("k2"))
    (item,) = await store.outbox_due("s1", now=1e12)
    await store.outbox_retry(item.id, next_attempt_at=1e12 + 60, error="HTTP 503")
    assert await store.outbox_due("s1", now=1e12) == []
    (retried,) = await store.outbox_due("s1", now=1e12 + 61)
    assert (retried.attempts, retried.last_error) == (1, "HTTP 503")
    await store.outbox_dead(retried.id, "gave up after 1 attempt")
    (dead,) = await store.list_dead_letters("s1")
    assert (dead.idempotency_key, dead.attempts) == ("k2", 1)
    assert dead.reason == "gave up after 1 attempt"
    new_id = await store.replay_dead_letter(dead.id)
    assert await store.list_dead_letters() == []
    (again,) = await store.outbox_due("s1", now=1e13)
    assert again.id == new_id and again.attempts == 0
    with pytest.raises(StoreError):
        await store.replay_dead_letter(dead.id)


async def test_cursors_scis_and_history(store: SqliteStore) -> None:
    assert await store.get_cursor("s1", "zoho") is None
    await store.put_cursor("s1", "zoho", "2026-01-01T00:00:00Z")
    await store.put_cursor("s1", "zoho", "2026-01-02T00:00:00Z")
    assert await store.get_cursor("s1", "zoho") == "2026-01-02T00:00:00Z"
    await store.set_sci_status("s1", "failed", "crashed 6 times")
    sci = await store.get_sci("s1")
    assert sci is not None and (sci.status, sci.status_reason) == ("failed", "crashed 6 times")
    for n in range(3):
        await store.record_sync(SyncEntry(sci_id="s1", direction="zoho_to_jira", started_at=n,
                                          finished_at=n + 1, changes=n, errors=0, summary=f"#{n}"))
    last = await store.last_sync("s1")
    assert last is not None and last.summary == "#2"
    assert [e.summary for e in await store.recent_syncs("s1", limit=2)] == ["#2", "#1"]
    await store.delete_sci("s1")
    assert await store.list_scis() == []
