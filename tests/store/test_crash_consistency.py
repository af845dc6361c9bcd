"""SIGKILL a writer at random moments; the reopened store must hold whole transactions only,
and every acknowledged inbox append."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.secretbox import SecretBox
from bridge.store import SqliteStore
from bridge.store.migrations import LATEST

# Each round: receive an event, finish it with three queued writes, then complete the first,
# dead-letter the second and postpone the third (so only the next round's writes are due):
# every kind of multi-statement transaction is in flight at some point.
WRITER = """
import sys, anyio
from bridge.secretbox import SecretBox
from bridge.store import OutboxDraft, SqliteStore

async def main(path, key):
    store = SqliteStore(path, SecretBox(key.encode()))
    await store.open()
    n = 0
    while True:
        n += 1
        event_id = await store.inbox_append("jira", f"d{n}", b"x" * 512, ["s1"])
        drafts = [OutboxDraft(sci_id="s1", idempotency_key=f"e{event_id}-{i}", operation="op",
                              payload=b"y" * 256) for i in range(3)]
        await store.inbox_finish(event_id, "s1", "done", "ok", enqueue=drafts)
        first, second, third = await store.outbox_due("s1", now=1e12)
        await store.outbox_done(first.id)
        await store.outbox_dead(second.id, "HTTP 400")
        await store.outbox_retry(third.id, next_attempt_at=2e12, error="HTTP 503")
        print(n, flush=True)

anyio.run(main, sys.argv[1], sys.argv[2])
"""

# Sixteen concurrent deliverers, so appends are committed in groups; every fourth delivery
# repeats the one before. Each answer is logged (one line, one write) once it is returned.
CONCURRENT_INGEST = """
import sys, anyio
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

async def deliver(store, worker, log):
    n = 0
    while True:
        n += 1
        delivery = f"w{worker}-{n - 1 if n % 4 == 0 else n}"
        event_id = await store.inbox_append("jira", delivery, b"x" * 512, ["s1", "s2"])
        log.write(f"{delivery} {event_id}\\n")
        if worker == 0 and n == 1:
            print(1, flush=True)

async def main(path, key, log_path):
    store = SqliteStore(path, SecretBox(key.encode()))
    await store.open()
    with open(log_path, "a", buffering=1) as log:
        async with anyio.create_task_group() as group:
            for worker in range(16):
                group.start_soon(deliver, store, worker, log)

anyio.run(main, *sys.argv[1:])
"""

KILL_DELAYS = [round(random.Random(seed).uniform(0.0, 0.6), 3) for seed in range(5)]


def run_and_kill(path: Path, key: bytes, delay: float, script: str = WRITER,
                 *extra: str) -> None:
    writer = subprocess.Popen([sys.executable, "-c", script, str(path), key.decode(), *extra],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "1"  # open, and writing has begun
        time.sleep(delay)
        assert writer.poll() is None, "the writer stopped before it was killed"
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer.stdout.close()


def keys(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[0] for row in db.execute(f"SELECT idempotency_key FROM {table}")]


@pytest.mark.parametrize("delay", KILL_DELAYS)
async def test_sigkill_mid_write_leaves_whole_transactions(tmp_path: Path, delay: float) -> None:
    path, key = tmp_path / "crash.db", SecretBox.generate_key()
    run_and_kill(path, key, delay)

    store = SqliteStore(path, SecretBox(key))
    await store.open()  # recovers the WAL
    try:
        assert await store.schema_version() == LATEST
        pending = await store.inbox_pending("s1")
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        events = db.execute("SELECT id FROM inbox_events").fetchall()
        targets = db.execute("SELECT event_id FROM inbox_targets").fetchall()
        done = [row[0] for row in db.execute(
            "SELECT event_id FROM inbox_targets WHERE status = 'done'")]
        queued, finished, dead = keys(db, "outbox"), keys(db, "done_keys"), keys(db, "dead_letters")
    assert events and sorted(targets) == sorted(events)  # no event without its routing
    assert len(pending) <= 1  # at most the event in flight at the kill
    # Each finished event's three writes exist exactly once, queued, done or dead; nothing else.
    everything = queued + finished + dead
    assert sorted(everything) == sorted(f"e{e}-{i}" for e in done for i in range(3))
    assert set(finished) <= {f"e{e}-0" for e in done}
    assert set(dead) <= {f"e{e}-1" for e in done}


@pytest.mark.parametrize("delay", KILL_DELAYS)
async def test_sigkill_during_group_commits_keeps_every_acknowledged_append(
        tmp_path: Path, delay: float) -> None:
    path, key, log = tmp_path / "crash.db", SecretBox.generate_key(), tmp_path / "answers"
    run_and_kill(path, key, delay, CONCURRENT_INGEST, str(log))

    answers = [line.split() for line in log.read_text().splitlines(keepends=True)
               if line.endswith("\n")]  # a line cut by the kill was never seen as answered
    store = SqliteStore(path, SecretBox(key))
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        events = dict(db.execute("SELECT delivery_id, id FROM inbox_events"))
        targets = db.execute(
            "SELECT event_id, sci_id FROM inbox_targets ORDER BY event_id, sci_id").fetchall()
    new = [(delivery, int(event_id)) for delivery, event_id in answers if event_id != "None"]
    repeats = [delivery for delivery, event_id in answers if event_id == "None"]
    assert new and repeats
    assert all(events.get(delivery) == event_id for delivery, event_id in new)
    assert all(delivery in events for delivery in repeats)
    assert targets == sorted((event_id, sci) for event_id in events.values()
                             for sci in ("s1", "s2"))
