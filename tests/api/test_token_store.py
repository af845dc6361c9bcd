"""API tokens in the store: only hashes kept, found by hash, listed, revoked; the
migration that adds them upgrades an existing database in place."""

import sqlite3
from pathlib import Path

from bridge.admin.tokens import PREFIX, authenticate, create_token, token_hash
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore
from bridge.store.migrations import LATEST, MIGRATIONS


async def open_store(path: Path) -> SqliteStore:
    store = SqliteStore(path, SecretBox(SecretBox.generate_key()))
    await store.open()
    return store


async def test_tokens_are_found_by_hash_listed_and_revoked(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "bridge.db")
    try:
        admin, admin_token = await create_token(store, "admin", "ci")
        user, user_token = await create_token(store, "user")
        assert admin_token.startswith(PREFIX) and admin_token != user_token
        assert await authenticate(store, admin_token) == admin
        assert await authenticate(store, user_token) == user
        assert await authenticate(store, admin_token[:-1]) is None
        assert await authenticate(store, "no-prefix") is None
        assert [t.id for t in await store.list_api_tokens()] == [admin.id, user.id]
        assert await store.delete_api_token(admin.id) is True
        assert await store.delete_api_token(admin.id) is False
        assert await authenticate(store, admin_token) is None
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        stored = repr(db.execute("SELECT * FROM api_tokens").fetchall())
    assert user_token not in stored and token_hash(user_token) in stored


async def test_migration_adds_the_token_table_to_an_existing_store(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_migrations "
                   "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)")
        for version, name, sql in MIGRATIONS[:2]:
            db.executescript(sql)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
        db.execute("INSERT INTO scis VALUES ('keep', 'Kept', 'crm', x'7b7d', 1, 'active', '', 0)")
    store = await open_store(path)
    try:
        assert await store.schema_version() == LATEST >= 3
        assert [s.id for s in await store.list_scis()] == ["keep"]
        _, token = await create_token(store, "admin")
        assert await authenticate(store, token) is not None
    finally:
        await store.close()
