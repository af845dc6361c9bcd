"""Kill a writer mid-flight (SIGKILL) and check that the store is still consistent."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
        print(n, flush=True)
        drafts = [OutboxDraft(sci_id="s1", idempotency_key=f"e{event_id}-{i}", operation="op",
                              payload=b"y" * 256) for i in range(3)]
        await store.inbox_finish(event_id, "s1", "done", "ok", enqueue=drafts)

anyio.run(main, sys.argv[1], sys.argv[2])
"""


@pytest.mark.parametrize("kill_after", [0.3, 0.55, 0.8, 1.1])
def test_sigkill_mid_write_leaves_consistent_store(tmp_path: Path, kill_after: float) -> None:
    from bridge.secretbox import SecretBox

    path = tmp_path / "crash.db"
    key = SecretBox.generate_key().decode()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), key],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "1"  # store open, writing has begun
    time.sleep(kill_after)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    writer.stdout.close()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        events = db.execute("SELECT COUNT(*) FROM inbox_events").fetchone()[0]
        targets = db.execute("SELECT COUNT(*) FROM inbox_targets").fetchone()[0]
        done = [row[0] for row in db.execute(
            "SELECT event_id FROM inbox_targets WHERE status = 'done'")]
        pending = db.execute(
            "SELECT COUNT(*) FROM inbox_targets WHERE status = 'pending'").fetchone()[0]
        outbox = {row[0] for row in db.execute("SELECT idempotency_key FROM outbox")}
    assert events >= 1
    assert targets == events  # an event never exists without its routing
    assert pending <= 1  # at most the one in flight when the process died
    # Every finished target has all three of its writes queued, and nothing else is queued.
    assert outbox == {f"e{event_id}-{i}" for event_id in done for i in range(3)}
