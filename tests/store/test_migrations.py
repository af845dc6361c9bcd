import asyncio
import sqlite3
from pathlib import Path

import pytest

from bridge.secretbox import SecretBox
from bridge.store import SqliteStore, StoreError
from bridge.store.migrations import LATEST, MIGRATIONS, statements
from tests.store.conftest import OpenStore


def applied(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY 1")]


async def test_empty_file_migrates_to_latest_and_reopen_is_a_no_op(
        open_store: OpenStore, tmp_path: Path) -> None:
    first = await open_store("m.db")
    assert await first.schema_version() == LATEST
    await first.close()
    before = applied(tmp_path / "m.db")
    second = await open_store("m.db")
    assert await second.schema_version() == LATEST
    assert applied(tmp_path / "m.db") == before == [v for v, _, _ in MIGRATIONS]
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_upgrade_from_an_older_version_keeps_data(
        open_store: OpenStore, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    version, name, sql = MIGRATIONS[0]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_migrations "
                   "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
        for statement in statements(sql):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
        db.execute("INSERT INTO cursors VALUES ('s1', 'zoho', 'c-41', 0)")
    store = await open_store("old.db")
    assert await store.schema_version() == LATEST > version
    assert await store.get_cursor("s1", "zoho") == "c-41"


async def test_concurrent_opens_of_a_new_file_apply_each_migration_once(
        tmp_path: Path, key: bytes) -> None:
    stores = [SqliteStore(tmp_path / "race.db", SecretBox(key)) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert [await s.schema_version() for s in stores] == [LATEST] * 4
    finally:
        for s in stores:
            await s.close()
    assert applied(tmp_path / "race.db") == [v for v, _, _ in MIGRATIONS]


async def test_a_newer_schema_is_refused(open_store: OpenStore, tmp_path: Path) -> None:
    await (await open_store("new.db")).close()
    with sqlite3.connect(tmp_path / "new.db") as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, 'future', 0)", (LATEST + 1,))
    with pytest.raises(StoreError, match=f"version {LATEST + 1} is newer than this bridge"):
        await open_store("new.db")


def test_migration_versions_are_strictly_increasing() -> None:
    versions = [v for v, _, _ in MIGRATIONS]
    assert versions == sorted(set(versions)) and versions[-1] == LATEST


def test_statements_keep_semicolons_inside_literals_and_triggers() -> None:
    script = ("CREATE TABLE t (a TEXT DEFAULT ';');\n"
              "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
              "  UPDATE t SET a = 'x;y';\n"
              "END;\n")
    assert list(statements(script)) == [
        "CREATE TABLE t (a TEXT DEFAULT ';');",
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET a = 'x;y';\nEND;",
    ]
    with pytest.raises(ValueError, match="incomplete SQL"):
        list(statements("CREATE TABLE t (a TEXT)"))


async def test_closed_store_fails_ping_and_calls(open_store: OpenStore) -> None:
    store = await open_store()
    await store.ping()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.ping()
    with pytest.raises(StoreError, match="not open"):
        await store.list_scis()
