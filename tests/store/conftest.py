"""Stores on temporary files, opened for the test and closed afterwards."""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bridge.secretbox import SecretBox
from bridge.store import SciRecord, SqliteStore

OpenStore = Callable[..., Awaitable[SqliteStore]]


@pytest.fixture
def key() -> bytes:
    return SecretBox.generate_key()


@pytest.fixture
async def open_store(tmp_path: Path, key: bytes) -> AsyncIterator[OpenStore]:
    """``await open_store(name="bridge.db", key=...)``: an open store, closed at teardown."""
    opened: list[SqliteStore] = []

    async def factory(name: str = "bridge.db", box_key: bytes | None = None) -> SqliteStore:
        store = SqliteStore(tmp_path / name, SecretBox(box_key or key))
        await store.open()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> SqliteStore:
    """An open store holding one SCI, ``s1``."""
    store = await open_store()
    await store.put_sci(SciRecord(id="s1", name="S1", kind="crm", definition=b"{}"))
    return store
