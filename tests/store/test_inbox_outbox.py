import asyncio
import sqlite3

import pytest

from bridge.store import OutboxDraft, SqliteStore, StoreError
from tests.store.conftest import OpenStore

LATER = 1e12  # "now" far in the future: everything queued is due


def draft(key: str, sci: str = "s1") -> OutboxDraft:
    return OutboxDraft(sci_id=sci, idempotency_key=key, operation="update", payload=b"{}")


async def test_twenty_concurrent_duplicate_deliveries_store_one_event(store: SqliteStore) -> None:
    results = await asyncio.gather(
        *(store.inbox_append("jira", "same-id", b"{}", ["s1"]) for _ in range(20)))
    assert len([r for r in results if r is not None]) == 1
    assert await store.inbox_depth("s1") == 1
    assert await store.inbox_append("zoho_crm", "same-id", b"{}", ["s1"]) is not None


async def test_duplicate_deliveries_across_connections_store_one_event(
        open_store: OpenStore) -> None:
    stores = [await open_store() for _ in range(3)]
    results = await asyncio.gather(
        *(s.inbox_append("jira", f"d{n}", b"{}", ["s1"]) for n in range(10) for s in stores))
    assert len([r for r in results if r is not None]) == 10
    assert await stores[0].inbox_depth("s1") == 10


async def test_pending_items_oldest_first_per_sci(store: SqliteStore) -> None:
    ids = [await store.inbox_append("jira", f"d{n}", f"p{n}".encode(), ["s1", "s2", "s1"])
           for n in range(3)]
    pending = await store.inbox_pending("s1")
    assert [(i.event_id, i.delivery_id, i.payload) for i in pending] == [
        (ids[0], "d0", b"p0"), (ids[1], "d1", b"p1"), (ids[2], "d2", b"p2")]
    assert [i.event_id for i in await store.inbox_pending("s1", limit=2)] == ids[:2]
    assert await store.inbox_depth("s1") == await store.inbox_depth("s2") == 3
    assert await store.inbox_pending("nobody") == []


async def test_inbox_finish_enqueues_in_the_same_transaction(store: SqliteStore) -> None:
    event_id = await store.inbox_append("jira", "d1", b"payload", ["s1", "s2"])
    assert event_id is not None
    await store.inbox_finish(event_id, "s1", "done", "applied", enqueue=[draft("k1")])
    assert await store.inbox_pending("s1") == []
    assert [i.event_id for i in await store.inbox_pending("s2")] == [event_id]
    assert [i.idempotency_key for i in await store.outbox_due("s1", LATER)] == ["k1"]
    await store.inbox_finish(event_id, "s2", "skipped", "not in scope")
    assert await store.inbox_depth("s2") == 0


async def test_finishing_twice_is_refused_and_queues_nothing(store: SqliteStore) -> None:
    event_id = await store.inbox_append("jira", "d1", b"p", ["s1"])
    assert event_id is not None
    await store.inbox_finish(event_id, "s1", "failed", "HTTP 400")
    with pytest.raises(StoreError, match=f"event {event_id} is not pending for SCI s1"):
        await store.inbox_finish(event_id, "s1", "done", enqueue=[draft("k1")])
    assert await store.outbox_depth("s1") == 0


async def test_a_failed_finish_leaves_nothing_behind(store: SqliteStore) -> None:
    event_id = await store.inbox_append("jira", "d1", b"p", ["s1"])
    assert event_id is not None
    bad = OutboxDraft(sci_id="s1", idempotency_key="k", operation="op", payload=None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        await store.inbox_finish(event_id, "s1", "done", enqueue=[draft("ok"), bad])
    assert await store.inbox_depth("s1") == 1
    assert await store.outbox_depth("s1") == 0
    await store.inbox_finish(event_id, "s1", "done", enqueue=[draft("ok")])  # store still usable
    assert await store.outbox_depth("s1") == 1


async def test_queue_ages(store: SqliteStore) -> None:
    assert await store.inbox_oldest_age("s1", now=LATER) == 0.0
    assert await store.outbox_oldest_age("s1", now=LATER) == 0.0
    await store.inbox_append("jira", "d1", b"p", ["s1"])
    await store.outbox_put(draft("k1"))
    (item,) = await store.inbox_pending("s1")
    (queued,) = await store.outbox_due("s1", LATER)
    assert await store.inbox_oldest_age("s1", now=item.received_at + 7) == pytest.approx(7)
    assert await store.outbox_oldest_age("s1", now=queued.created_at + 3) == pytest.approx(3)
    assert await store.inbox_oldest_age("s1", now=0.0) == 0.0  # clock behind: never negative


async def test_idempotency_keys_survive_completion(store: SqliteStore) -> None:
    assert await store.outbox_put(draft("k1"))
    assert not await store.outbox_put(draft("k1"))
    (item,) = await store.outbox_due("s1", LATER)
    await store.outbox_done(item.id)
    assert await store.outbox_depth("s1") == 0
    assert not await store.outbox_put(draft("k1"))  # already applied once
    event_id = await store.inbox_append("jira", "d1", b"p", ["s1"])
    assert event_id is not None
    await store.inbox_finish(event_id, "s1", "done", enqueue=[draft("k1"), draft("k2")])
    assert [i.idempotency_key for i in await store.outbox_due("s1", LATER)] == ["k2"]


async def test_due_items_respect_time_sci_and_limit(store: SqliteStore) -> None:
    for n in range(3):
        await store.outbox_put(draft(f"k{n}"))
    await store.outbox_put(draft("other", sci="s2"))
    assert [i.idempotency_key for i in await store.outbox_due("s1", LATER, limit=2)] == [
        "k0", "k1"]
    assert await store.outbox_due("s1", now=0.0) == []
    assert await store.outbox_depth("s1") == 3


async def test_retry_then_dead_letter_then_replay(store: SqliteStore) -> None:
    await store.outbox_put(draft("k2"))
    (item,) = await store.outbox_due("s1", LATER)
    assert (item.attempts, item.last_error) == (0, "")
    await store.outbox_retry(item.id, next_attempt_at=LATER + 60, error="HTTP 503")
    assert await store.outbox_due("s1", LATER) == []
    (retried,) = await store.outbox_due("s1", LATER + 61)
    assert (retried.attempts, retried.last_error) == (1, "HTTP 503")
    await store.outbox_dead(retried.id, "gave up after 1 attempt")
    assert await store.outbox_depth("s1") == 0
    (dead,) = await store.list_dead_letters("s1")
    assert (dead.idempotency_key, dead.attempts, dead.payload) == ("k2", 1, b"{}")
    assert dead.reason == "gave up after 1 attempt"
    assert await store.list_dead_letters("s2") == []
    assert not await store.outbox_put(draft("k2"))  # parked, not re-queued behind the operator
    new_id = await store.replay_dead_letter(dead.id)
    assert await store.list_dead_letters() == []
    (again,) = await store.outbox_due("s1", LATER)
    assert (again.id, again.attempts, again.idempotency_key) == (new_id, 0, "k2")
    with pytest.raises(StoreError, match=f"no dead letter {dead.id}"):
        await store.replay_dead_letter(dead.id)


async def test_discarding_a_dead_letter(store: SqliteStore) -> None:
    for key in ("a", "b"):
        await store.outbox_put(draft(key))
    for item in await store.outbox_due("s1", LATER):
        await store.outbox_dead(item.id, "HTTP 400")
    first, second = await store.list_dead_letters()
    await store.discard_dead_letter(first.id)
    assert [d.id for d in await store.list_dead_letters()] == [second.id]
