"""Concurrent inbox appends share transactions yet each answers exactly as if alone."""

import asyncio
import random
import sqlite3
from pathlib import Path

import pytest

from bridge.secretbox import SecretBox
from bridge.store import SqliteStore, StoreError
from bridge.store.group_commit import GroupCommit
from tests.store.conftest import OpenStore


async def test_concurrent_appends_with_duplicates_store_each_delivery_once(
        store: SqliteStore, tmp_path: Path) -> None:
    earlier = await store.inbox_append("jira", "d0", b"first", ["s1", "s2"])
    deliveries = [f"d{n}" for n in range(40) for _ in range(3)]  # every delivery three times
    random.Random(7).shuffle(deliveries)
    results = await asyncio.gather(*(
        store.inbox_append("jira", d, d.encode(), ["s1", "s2", "s1"]) for d in deliveries))

    new = {d: r for d, r in zip(deliveries, results, strict=True) if r is not None}
    assert sorted(new) == sorted(f"d{n}" for n in range(1, 40))  # d0 was already stored
    assert len(set(new.values())) == len(new)
    assert len([r for r in results if r is None]) == len(deliveries) - len(new)
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        events = dict(db.execute("SELECT delivery_id, id FROM inbox_events"))
        targets = db.execute(
            "SELECT event_id, sci_id FROM inbox_targets ORDER BY event_id, sci_id").fetchall()
    assert events == {**new, "d0": earlier}
    assert targets == sorted((event_id, sci) for event_id in events.values()
                             for sci in ("s1", "s2"))
    pending = await store.inbox_pending("s2", limit=len(events))
    assert [(i.event_id, i.payload) for i in pending] == sorted(
        (event_id, b"first" if delivery == "d0" else delivery.encode())
        for delivery, event_id in events.items())


async def test_a_bad_append_fails_alone(store: SqliteStore) -> None:
    payloads: list[bytes | None] = [b"a", b"b", None, b"d"]  # NULL breaks NOT NULL
    results = await asyncio.gather(
        *(store.inbox_append("jira", f"d{n}", p, ["s1"])  # type: ignore[arg-type]
          for n, p in enumerate(payloads)),
        return_exceptions=True)
    assert isinstance(results[2], sqlite3.IntegrityError)
    assert all(isinstance(r, int) for n, r in enumerate(results) if n != 2)
    assert [i.delivery_id for i in await store.inbox_pending("s1")] == ["d0", "d1", "d3"]
    assert await store.inbox_append("jira", "d2", b"c", ["s1"]) is not None  # not taken


async def test_close_commits_every_append_already_received(
        open_store: OpenStore, tmp_path: Path, key: bytes) -> None:
    store = await open_store()
    appends = [asyncio.create_task(store.inbox_append("jira", f"d{n}", b"p", ["s1"]))
               for n in range(50)]
    await asyncio.sleep(0)  # every task has handed its append over
    await store.close()
    assert all(isinstance(result, int) for result in await asyncio.gather(*appends))
    with pytest.raises(StoreError, match="not open"):
        await store.inbox_append("jira", "late", b"p", ["s1"])

    reopened = SqliteStore(tmp_path / "bridge.db", SecretBox(key))
    await reopened.open()
    try:
        assert await reopened.inbox_depth("s1") == 50
    finally:
        await reopened.close()


async def test_items_arriving_during_a_commit_share_the_next_one() -> None:
    batches: list[list[int]] = []

    async def commit(items: list[int]) -> list[int | Exception]:
        batches.append(items)
        await asyncio.sleep(0)  # the fsync: others arrive meanwhile
        return [item * 10 for item in items]

    writer: GroupCommit[int, int] = GroupCommit(commit)
    writer.start()
    results = await asyncio.gather(*(writer.submit(n) for n in range(50)))
    await writer.close()
    assert results == [n * 10 for n in range(50)]
    assert [item for batch in batches for item in batch] == list(range(50))  # in order
    assert len(batches) < 50


async def test_batches_are_capped() -> None:
    batches: list[list[int]] = []

    async def commit(items: list[int]) -> list[int | Exception]:
        batches.append(items)
        return list(items)

    writer: GroupCommit[int, int] = GroupCommit(commit, max_batch=8)
    writer.start()
    assert await asyncio.gather(*(writer.submit(n) for n in range(20))) == list(range(20))
    await writer.close()
    assert max(len(batch) for batch in batches) == 8


async def test_a_failed_commit_fails_its_batch_and_the_writer_goes_on() -> None:
    async def commit(items: list[str]) -> list[str | Exception]:
        if "boom" in items:
            raise sqlite3.OperationalError("disk I/O error")
        return [item.upper() for item in items]

    writer: GroupCommit[str, str] = GroupCommit(commit)
    writer.start()
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        await writer.submit("boom")
    assert await writer.submit("fine") == "FINE"
    await writer.close()


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    committed: list[str] = []
    release = asyncio.Event()

    async def commit(items: list[str]) -> list[str | Exception]:
        await release.wait()
        committed.extend(items)
        return list(items)

    writer: GroupCommit[str, str] = GroupCommit(commit)
    writer.start()
    impatient = asyncio.create_task(writer.submit("a"))
    patient = asyncio.create_task(writer.submit("b"))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == "b"
    await writer.close()
    assert impatient.cancelled()
    assert committed == ["a", "b"]  # handed over, so written: a retry finds a duplicate


async def test_a_stopped_writer_fails_its_batch_and_refuses_new_items() -> None:
    class Stop(BaseException):  # as cancellation at event loop shutdown
        pass

    async def commit(items: list[int]) -> list[int | Exception]:
        raise Stop

    writer: GroupCommit[int, int] = GroupCommit(commit)
    with pytest.raises(StoreError, match="not open"):  # not started yet
        await writer.submit(1)
    writer.start()
    with pytest.raises(StoreError, match="may not be stored"):
        await writer.submit(2)
    with pytest.raises(StoreError, match="not open"):
        await writer.submit(3)
    with pytest.raises(Stop):
        await writer.close()
