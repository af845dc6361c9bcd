"""The store's files and its answers when the environment is against it."""

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bridge.secretbox import SecretBox
from bridge.store import SqliteStore, StoreBusy, StoreError, has_sealed_secrets
from bridge.store.base import Connection


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    db = tmp_path / "state" / "bridge.db"
    with umask(0):
        store = SqliteStore(db, SecretBox(SecretBox.generate_key()))
        await store.open()
        await store.put_cursor("sci", "poll", "1")
        files = {p.name: mode(p) for p in db.parent.iterdir()}
        await store.close()
    assert files == {"bridge.db": 0o600, "bridge.db-wal": 0o600, "bridge.db-shm": 0o600}
    assert mode(db.parent) == 0o700


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another process's write transaction on the database."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_locked_database_raises_store_busy(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "bridge.db", SecretBox(SecretBox.generate_key()),
                        busy_timeout=0.05)
    await store.open()
    try:
        with locked(store.path), pytest.raises(StoreBusy) as info:
            await store.inbox_append("jira", "d-1", b"{}", ["sci"])
        assert str(store.path) in str(info.value)
        assert await store.inbox_append("jira", "d-1", b"{}", ["sci"]) is not None
    finally:
        await store.close()


async def test_sealed_secrets_are_detected_without_opening_for_write(tmp_path: Path) -> None:
    db = tmp_path / "bridge.db"
    assert not has_sealed_secrets(db)
    store = SqliteStore(db, SecretBox(SecretBox.generate_key()))
    await store.open()
    await store.put_connection(Connection(name="jira", kind="jira"))
    assert not has_sealed_secrets(db)
    await store.put_connection(Connection(name="jira", kind="jira", secrets={"api_token": "t"}))
    assert has_sealed_secrets(db)
    await store.close()


async def test_directory_as_database_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        await SqliteStore(tmp_path, SecretBox(SecretBox.generate_key())).open()
