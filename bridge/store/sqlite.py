"""SQLite store: one aiosqlite connection, WAL, foreign keys, explicit transactions.

Writers are serialised by an asyncio lock and each operation is one ``BEGIN IMMEDIATE``
transaction, so a crash at any point leaves either the whole operation or none of it.
``synchronous=FULL``: a webhook is acknowledged only after its commit, so that commit must
survive a power cut, not just a process crash. Inbox appends go through a group commit:
concurrent deliveries share one transaction and its fsync, each answered after the commit.

The database file is created 0600 (SQLite gives ``-wal`` and ``-shm`` the database file's
mode) in a 0700 directory, whatever the umask. Failures to open name the file and what to
do; a database locked longer than the busy timeout raises ``StoreBusy``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import aiosqlite

from actors.backoff import Backoff
from bridge.secretbox import SecretBox
from bridge.store.base import (
    ApiToken,
    CachedAssociated,
    Connection,
    DeadLetter,
    InboxItem,
    Link,
    LinkConflict,
    LinkOrigin,
    OutboxDraft,
    OutboxItem,
    SciRecord,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    SyncEntry,
    TargetStatus,
    UnitOfWork,
)
from bridge.store.group_commit import GroupCommit
from bridge.store.migrations import LATEST, MIGRATIONS, statements
from bridge.sync.model import AttachmentMirror, CommentMirror

Row = aiosqlite.Row
_OPEN_ATTEMPTS = 10
_OPEN_RETRY = Backoff(base=0.01, factor=2.0, cap=0.5)


_CORRUPT = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_NOT_WRITABLE = frozenset(
    {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM})


class _Append(NamedTuple):
    source: str
    delivery_id: str
    payload: bytes
    sci_ids: tuple[str, ...]
    received_at: float


class SqliteStore:
    def __init__(self, path: str | Path, secret_box: SecretBox, *,
                 busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._box = secret_box
        self._busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._appends: GroupCommit[_Append, int | None] | None = None

    # -- lifecycle ------------------------------------------------------------------
    async def open(self) -> None:
        _create_private(self.path)
        try:
            db = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(_explain(self.path, exc)) from None
        db.row_factory = aiosqlite.Row
        self._db = db
        try:
            pragmas = (f"busy_timeout={int(self._busy_timeout * 1000)}", "synchronous=FULL",
                       "foreign_keys=ON")
            for pragma in pragmas:
                await _one(db, f"PRAGMA {pragma}")
            await self._prepare()
        except sqlite3.Error as exc:
            await self.close()
            raise StoreError(_explain(self.path, exc)) from None
        except BaseException:
            await self.close()
            raise
        self._appends = GroupCommit(self._commit_appends)
        self._appends.start()

    async def close(self) -> None:
        if self._appends is not None:  # commit (and answer) every append already received
            await self._appends.close()
            self._appends = None
        async with self._lock:  # never in the middle of another coroutine's transaction
            if self._db is not None:
                await self._db.close()
                self._db = None

    async def schema_version(self) -> int:
        async with self._lock:
            return await _version(self._conn)

    async def ping(self) -> None:
        if self._db is None:
            raise StoreError("store is closed")
        try:
            await self.schema_version()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    async def _prepare(self) -> None:
        """WAL and migrations, retried while SQLite answers "busy" without waiting for
        busy_timeout, as it does while another connection turns a new file into WAL."""
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                await _one(self._conn, "PRAGMA journal_mode=WAL")
                await self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == _OPEN_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(_OPEN_RETRY.delay(attempt))

    async def _migrate(self) -> None:
        async with self._tx() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
        for version, name, sql in MIGRATIONS:
            # The version is read inside the migration's own transaction, so processes
            # opening the same new file at once apply each migration exactly once.
            async with self._tx() as db:
                current = await _version(db)
                if current > LATEST:
                    raise StoreError(
                        f"{self.path}: schema version {current} is newer than this bridge "
                        f"supports ({LATEST}); run a newer bridge or restore a backup"
                    )
                if version <= current:
                    continue
                for statement in statements(sql):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, time.time())
                )

    # -- plumbing -------------------------------------------------------------------
    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("store is not open")
        return self._db

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self._conn
            with self._plain_errors():
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    if db.in_transaction:  # SQLite may already have rolled back (disk full)
                        await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._lock:
            with self._plain_errors():
                return list(await self._conn.execute_fetchall(sql, params))

    @contextmanager
    def _plain_errors(self) -> Iterator[None]:
        """SQLite's busy, full, read-only and I/O failures as store errors that say what
        to do; anything else (a bug) goes up unchanged."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            code = exc.sqlite_errorcode & 0xFF
            if code == sqlite3.SQLITE_BUSY:
                raise StoreBusy(f"{self.path} is locked by another process (waited "
                                f"{self._busy_timeout:g} s)") from None
            why = _UNAVAILABLE.get(code)
            if why is None:
                raise
            raise StoreUnavailable(f"{self.path}: {why}; nothing was written") from None

    async def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; returns the number of changed rows."""
        async with self._tx() as db:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

    # -- connections ----------------------------------------------------------------
    async def put_connection(self, connection: Connection) -> None:
        sealed = {key: self._box.seal(value) for key, value in connection.secrets.items()}
        await self._write(
            "INSERT INTO connections VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE "
            "SET kind=excluded.kind, settings=excluded.settings, secrets=excluded.secrets, "
            "state=excluded.state, state_message=excluded.state_message, "
            "updated_at=excluded.updated_at",
            (connection.name, connection.kind, json.dumps(connection.settings),
             json.dumps(sealed), connection.state, connection.state_message, time.time()),
        )

    async def get_connection(self, name: str) -> Connection | None:
        rows = await self._read("SELECT * FROM connections WHERE name = ?", (name,))
        return self._connection(rows[0]) if rows else None

    async def list_connections(self) -> list[Connection]:
        return [self._connection(r) for r in await self._read(
            "SELECT * FROM connections ORDER BY name")]

    async def set_connection_state(self, name: str, state: str, message: str) -> None:
        await self._write(
            "UPDATE connections SET state = ?, state_message = ?, updated_at = ? WHERE name = ?",
            (state, message, time.time(), name),
        )

    async def clear_connection_secrets(self, name: str) -> None:
        await self._write(
            "UPDATE connections SET secrets = '{}', updated_at = ? WHERE name = ?",
            (time.time(), name),
        )

    async def delete_connection(self, name: str) -> None:
        await self._write("DELETE FROM connections WHERE name = ?", (name,))

    def _connection(self, row: Row) -> Connection:
        sealed: dict[str, str] = json.loads(row["secrets"])
        return Connection(
            name=row["name"], kind=row["kind"], settings=json.loads(row["settings"]),
            secrets={key: self._box.open(value) for key, value in sealed.items()},
            state=row["state"], state_message=row["state_message"],
            updated_at=row["updated_at"],
        )

    # -- SCIs -----------------------------------------------------------------------
    async def put_sci(self, record: SciRecord) -> None:
        await self._write(
            "INSERT INTO scis (id, name, kind, definition, enabled, status, status_reason, "
            "updated_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
            "SET name=excluded.name, kind=excluded.kind, definition=excluded.definition, "
            "enabled=excluded.enabled, updated_at=excluded.updated_at, origin=excluded.origin",
            (record.id, record.name, record.kind, record.definition, int(record.enabled),
             record.status, record.status_reason, time.time(), record.origin),
        )

    async def get_sci(self, sci_id: str) -> SciRecord | None:
        rows = await self._read("SELECT * FROM scis WHERE id = ?", (sci_id,))
        return _sci(rows[0]) if rows else None

    async def list_scis(self) -> list[SciRecord]:
        return [_sci(r) for r in await self._read("SELECT * FROM scis ORDER BY id")]

    async def set_sci_status(self, sci_id: str, status: str, reason: str) -> None:
        await self._write(
            "UPDATE scis SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
            (status, reason, time.time(), sci_id),
        )

    async def delete_sci(self, sci_id: str) -> None:
        await self._write("DELETE FROM scis WHERE id = ?", (sci_id,))

    # -- links ----------------------------------------------------------------------
    async def create_link(self, sci_id: str, jira_issue_id: str, jira_issue_key: str,
                          zoho_record_id: str, origin: LinkOrigin) -> Link:
        link = Link(id=uuid.uuid4().hex, sci_id=sci_id, jira_issue_id=jira_issue_id,
                    jira_issue_key=jira_issue_key, zoho_record_id=zoho_record_id,
                    origin=origin, created_at=time.time())
        async with self._tx() as db:
            await _insert_link(db, link)
        return link

    async def get_link(self, link_id: str) -> Link | None:
        rows = await self._read("SELECT * FROM links WHERE id = ?", (link_id,))
        return _link(rows[0]) if rows else None

    async def find_link(self, sci_id: str, *, jira_issue_id: str | None = None,
                        zoho_record_id: str | None = None) -> Link | None:
        if (jira_issue_id is None) == (zoho_record_id is None):
            raise ValueError("give exactly one of jira_issue_id, zoho_record_id")
        column, value = (("jira_issue_id", jira_issue_id) if jira_issue_id is not None
                         else ("zoho_record_id", zoho_record_id))
        rows = await self._read(
            f"SELECT * FROM links WHERE sci_id = ? AND {column} = ?", (sci_id, value))
        return _link(rows[0]) if rows else None

    async def link_count(self, sci_id: str) -> int:
        rows = await self._read("SELECT COUNT(*) AS n FROM links WHERE sci_id = ?", (sci_id,))
        return int(rows[0]["n"])

    async def list_links(self, sci_id: str) -> list[Link]:
        return [_link(r) for r in await self._read(
            "SELECT * FROM links WHERE sci_id = ? ORDER BY created_at", (sci_id,))]

    async def delete_link(self, link_id: str) -> None:
        await self._write("DELETE FROM links WHERE id = ?", (link_id,))

    async def get_synced_state(self, link_id: str) -> bytes | None:
        rows = await self._read("SELECT state FROM synced_state WHERE link_id = ?", (link_id,))
        return bytes(rows[0]["state"]) if rows else None

    async def put_synced_state(self, link_id: str, state: bytes) -> None:
        await self._write(
            "INSERT INTO synced_state VALUES (?, ?, ?) ON CONFLICT(link_id) DO UPDATE "
            "SET state = excluded.state, updated_at = excluded.updated_at",
            (link_id, state, time.time()),
        )

    async def comment_mirrors(self, link_id: str) -> list[CommentMirror]:
        rows = await self._read("SELECT * FROM comment_mirrors WHERE link_id = ? "
                                "ORDER BY rowid", (link_id,))
        return [CommentMirror(link_id=r["link_id"], origin=r["origin"],
                              origin_id=r["origin_id"], mirror_id=r["mirror_id"],
                              digest=r["digest"]) for r in rows]

    async def attachment_mirrors(self, link_id: str) -> list[AttachmentMirror]:
        rows = await self._read("SELECT * FROM attachment_mirrors WHERE link_id = ? "
                                "ORDER BY rowid", (link_id,))
        return [AttachmentMirror(link_id=r["link_id"], origin=r["origin"],
                                 origin_id=r["origin_id"], mirror_id=r["mirror_id"],
                                 sha256=r["sha256"], name=r["name"], size=r["size"])
                for r in rows]

    async def attachment_link(self, sci_id: str, jira_attachment_id: str) -> str | None:
        rows = await self._read(
            "SELECT m.link_id FROM attachment_mirrors m JOIN links l ON l.id = m.link_id "
            "WHERE l.sci_id = ? AND ((m.origin = 'jira' AND m.origin_id = ?) OR "
            "(m.origin = 'zoho' AND m.mirror_id = ?)) LIMIT 1",
            (sci_id, jira_attachment_id, jira_attachment_id))
        return str(rows[0]["link_id"]) if rows else None

    async def get_associated(self, link_id: str) -> CachedAssociated | None:
        rows = await self._read("SELECT * FROM associated_cache WHERE link_id = ?", (link_id,))
        return CachedAssociated(link_id=link_id, fetched_at=rows[0]["fetched_at"],
                                payload=bytes(rows[0]["payload"])) if rows else None

    async def put_associated(self, cached: CachedAssociated) -> None:
        # A link deleted meanwhile leaves nothing to cache (the foreign key would refuse).
        await self._write(
            "INSERT INTO associated_cache SELECT id, ?, ? FROM links WHERE id = ? "
            "ON CONFLICT(link_id) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "payload = excluded.payload",
            (cached.fetched_at, cached.payload, cached.link_id))

    # -- cursors --------------------------------------------------------------------
    async def get_cursor(self, sci_id: str, name: str) -> str | None:
        rows = await self._read(
            "SELECT value FROM cursors WHERE sci_id = ? AND name = ?", (sci_id, name))
        return str(rows[0]["value"]) if rows else None

    async def put_cursor(self, sci_id: str, name: str, value: str) -> None:
        await self._write(
            "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT(sci_id, name) DO UPDATE "
            "SET value = excluded.value, updated_at = excluded.updated_at",
            (sci_id, name, value, time.time()),
        )

    # -- inbox ----------------------------------------------------------------------
    async def inbox_append(self, source: str, delivery_id: str, payload: bytes,
                           sci_ids: Sequence[str]) -> int | None:
        if self._appends is None:
            raise StoreError("store is not open")
        return await self._appends.submit(
            _Append(source, delivery_id, payload, tuple(dict.fromkeys(sci_ids)), time.time()))

    async def _commit_appends(self, appends: list[_Append]) -> list[int | Exception | None]:
        """One transaction for the batch. A bad row fails the whole statement, so the batch
        is then retried one append per transaction: only the bad one fails."""
        try:
            async with self._tx() as db:
                return list(await _insert_inbox(db, appends))
        except sqlite3.Error as exc:
            if len(appends) == 1:
                return [exc]
        return [(await self._commit_appends([append]))[0] for append in appends]

    async def inbox_pending(self, sci_id: str, limit: int = 100) -> list[InboxItem]:
        rows = await self._read(
            "SELECT e.* FROM inbox_targets t JOIN inbox_events e ON e.id = t.event_id "
            "WHERE t.sci_id = ? AND t.status = 'pending' ORDER BY e.id LIMIT ?",
            (sci_id, limit),
        )
        return [InboxItem(event_id=r["id"], source=r["source"], delivery_id=r["delivery_id"],
                          received_at=r["received_at"], payload=bytes(r["payload"]))
                for r in rows]

    async def inbox_finish(self, event_id: int, sci_id: str, status: TargetStatus,
                           outcome: str = "", enqueue: Sequence[OutboxDraft] = ()) -> None:
        async with self._tx() as db:
            cursor = await db.execute(
                "UPDATE inbox_targets SET status = ?, outcome = ?, done_at = ? "
                "WHERE event_id = ? AND sci_id = ? AND status = 'pending'",
                (status, outcome, time.time(), event_id, sci_id),
            )
            if cursor.rowcount == 0:
                raise StoreError(f"inbox event {event_id} is not pending for SCI {sci_id}")
            for draft in enqueue:
                await _insert_outbox(db, draft)

    async def inbox_depth(self, sci_id: str) -> int:
        rows = await self._read(
            "SELECT COUNT(*) AS n FROM inbox_targets WHERE sci_id = ? AND status = 'pending'",
            (sci_id,))
        return int(rows[0]["n"])

    async def inbox_oldest_age(self, sci_id: str, now: float) -> float:
        rows = await self._read(
            "SELECT MIN(e.received_at) AS t FROM inbox_targets t JOIN inbox_events e "
            "ON e.id = t.event_id WHERE t.sci_id = ? AND t.status = 'pending'", (sci_id,))
        oldest = rows[0]["t"]
        return 0.0 if oldest is None else max(0.0, now - oldest)

    # -- outbox ---------------------------------------------------------------------
    async def outbox_put(self, draft: OutboxDraft) -> bool:
        async with self._tx() as db:
            return await _insert_outbox(db, draft)

    async def outbox_due(self, sci_id: str, now: float, limit: int = 50) -> list[OutboxItem]:
        rows = await self._read(
            "SELECT * FROM outbox WHERE sci_id = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (sci_id, now, limit))
        return [_outbox(r) for r in rows]

    async def outbox_done(self, item_id: int) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT OR IGNORE INTO done_keys SELECT idempotency_key, ? FROM outbox "
                "WHERE id = ?", (time.time(), item_id))
            await db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def outbox_retry(self, item_id: int, next_attempt_at: float, error: str) -> None:
        await self._write(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            "WHERE id = ?", (next_attempt_at, error, item_id))

    async def outbox_dead(self, item_id: int, reason: str) -> None:
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO dead_letters (sci_id, idempotency_key, operation, payload, "
                "attempts, reason, died_at, item) SELECT sci_id, idempotency_key, operation, "
                "payload, attempts, ?, ?, item FROM outbox WHERE id = ?",
                (reason, time.time(), item_id))
            await db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def outbox_depth(self, sci_id: str) -> int:
        rows = await self._read(
            "SELECT COUNT(*) AS n FROM outbox WHERE sci_id = ?", (sci_id,))
        return int(rows[0]["n"])

    async def outbox_oldest_age(self, sci_id: str, now: float) -> float:
        rows = await self._read(
            "SELECT MIN(created_at) AS t FROM outbox WHERE sci_id = ?", (sci_id,))
        oldest = rows[0]["t"]
        return 0.0 if oldest is None else max(0.0, now - oldest)

    async def list_dead_letters(self, sci_id: str | None = None) -> list[DeadLetter]:
        where, params = ("WHERE sci_id = ?", (sci_id,)) if sci_id is not None else ("", ())
        rows = await self._read(f"SELECT * FROM dead_letters {where} ORDER BY id", params)
        return [DeadLetter(id=r["id"], sci_id=r["sci_id"], idempotency_key=r["idempotency_key"],
                           operation=r["operation"], payload=bytes(r["payload"]),
                           attempts=r["attempts"], reason=r["reason"], died_at=r["died_at"],
                           item=r["item"])
                for r in rows]

    async def outbox_items(self, sci_id: str, item: str) -> list[OutboxItem]:
        rows = await self._read("SELECT * FROM outbox WHERE sci_id = ? AND item = ? ORDER BY id",
                                (sci_id, item))
        return [_outbox(r) for r in rows]

    async def outbox_started(self, item_id: int) -> None:
        await self._write("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (item_id,))

    async def parked_items(self, sci_id: str) -> set[str]:
        rows = await self._read("SELECT DISTINCT item FROM dead_letters WHERE sci_id = ? "
                                "AND item != ''", (sci_id,))
        return {str(r["item"]) for r in rows}

    async def replay_dead_letter(self, dead_id: int) -> int:
        async with self._tx() as db:
            now = time.time()
            row = await _one(
                db, "INSERT INTO outbox (sci_id, idempotency_key, operation, payload, "
                "next_attempt_at, created_at, item) SELECT sci_id, idempotency_key, operation, "
                "payload, ?, ?, item FROM dead_letters WHERE id = ? RETURNING id",
                (now, now, dead_id))
            if row is None:
                raise StoreError(f"no dead letter {dead_id}")
            await db.execute("DELETE FROM dead_letters WHERE id = ?", (dead_id,))
            return int(row[0])

    async def discard_dead_letter(self, dead_id: int) -> None:
        await self._write("DELETE FROM dead_letters WHERE id = ?", (dead_id,))

    # -- sync history ---------------------------------------------------------------
    async def record_sync(self, entry: SyncEntry) -> None:
        async with self._tx() as db:
            await _insert_history(db, entry)

    async def recent_syncs(self, sci_id: str, limit: int = 20) -> list[SyncEntry]:
        rows = await self._read(
            "SELECT * FROM sync_history WHERE sci_id = ? ORDER BY id DESC LIMIT ?",
            (sci_id, limit))
        return [_history(r) for r in rows]

    async def link_history(self, link_id: str, limit: int = 20) -> list[SyncEntry]:
        rows = await self._read(
            "SELECT * FROM sync_history WHERE link_id = ? ORDER BY id DESC LIMIT ?",
            (link_id, limit))
        return [_history(r) for r in rows]

    # -- retention ------------------------------------------------------------------
    async def prune(self, before: float, keep_keys_containing: str) -> dict[str, int]:
        async with self._tx() as db:
            keys = await db.execute(
                "DELETE FROM done_keys WHERE done_at < ? AND instr(idempotency_key, ?) = 0",
                (before, keep_keys_containing))
            events = await db.execute(
                "DELETE FROM inbox_events WHERE received_at < ? AND NOT EXISTS (SELECT 1 "
                "FROM inbox_targets t WHERE t.event_id = inbox_events.id "
                "AND t.status = 'pending')", (before,))
            history = await db.execute("DELETE FROM sync_history WHERE finished_at < ?",
                                       (before,))
            return {"done_keys": keys.rowcount, "inbox_events": events.rowcount,
                    "sync_history": history.rowcount}

    # -- one unit of work -------------------------------------------------------------
    async def commit(self, work: UnitOfWork) -> None:
        now = time.time()
        async with self._tx() as db:
            for event_id, status, outcome in work.events:
                await db.execute(
                    "UPDATE inbox_targets SET status = ?, outcome = ?, done_at = ? "
                    "WHERE event_id = ? AND sci_id = ? AND status = 'pending'",
                    (status, outcome, now, event_id, work.sci_id))
            for link in work.new_links:
                await _insert_link(db, link)
            for draft in work.outbox:
                await _insert_outbox(db, draft)
            for link_id, state in work.states.items():
                await db.execute(
                    "INSERT INTO synced_state VALUES (?, ?, ?) ON CONFLICT(link_id) DO UPDATE "
                    "SET state = excluded.state, updated_at = excluded.updated_at",
                    (link_id, state, now))
            for name, value in work.cursors.items():
                await db.execute(
                    "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT(sci_id, name) DO "
                    "UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (work.sci_id, name, value, now))
            for entry in work.history:
                await _insert_history(db, entry)
            for mirror in work.mirrors:
                await db.execute(
                    "INSERT INTO comment_mirrors VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                    "(link_id, origin, origin_id) DO UPDATE SET mirror_id = excluded.mirror_id, "
                    "digest = excluded.digest, updated_at = excluded.updated_at",
                    (mirror.link_id, mirror.origin, mirror.origin_id, mirror.mirror_id,
                     mirror.digest, now))
            for mirror in work.unmirrored:
                await db.execute("DELETE FROM comment_mirrors WHERE link_id = ? AND origin = ? "
                                 "AND origin_id = ?",
                                 (mirror.link_id, mirror.origin, mirror.origin_id))
            for file in work.files:
                await db.execute(
                    "INSERT INTO attachment_mirrors VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                    "(link_id, origin, origin_id) DO UPDATE SET mirror_id = excluded.mirror_id, "
                    "sha256 = excluded.sha256, name = excluded.name, size = excluded.size, "
                    "updated_at = excluded.updated_at",
                    (file.link_id, file.origin, file.origin_id, file.mirror_id, file.sha256,
                     file.name, file.size, now))
            for file in work.unfiled:
                await db.execute("DELETE FROM attachment_mirrors WHERE link_id = ? "
                                 "AND origin = ? AND origin_id = ?",
                                 (file.link_id, file.origin, file.origin_id))
            for item_id in work.superseded:
                await db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            if work.done_outbox is not None:
                await db.execute(
                    "INSERT OR IGNORE INTO done_keys SELECT idempotency_key, ? FROM outbox "
                    "WHERE id = ?", (now, work.done_outbox))
                await db.execute("DELETE FROM outbox WHERE id = ?", (work.done_outbox,))

    async def last_sync(self, sci_id: str) -> SyncEntry | None:
        recent = await self.recent_syncs(sci_id, limit=1)
        return recent[0] if recent else None

    # -- API tokens -----------------------------------------------------------------
    async def put_api_token(self, token: ApiToken, token_hash: str) -> None:
        await self._write(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?)",
            (token.id, token.label, token.role, token_hash, token.created_at))

    async def find_api_token(self, token_hash: str) -> ApiToken | None:
        rows = await self._read("SELECT * FROM api_tokens WHERE token_hash = ?", (token_hash,))
        return _api_token(rows[0]) if rows else None

    async def list_api_tokens(self) -> list[ApiToken]:
        return [_api_token(r) for r in await self._read(
            "SELECT * FROM api_tokens ORDER BY created_at")]

    async def delete_api_token(self, token_id: str) -> bool:
        return await self._write("DELETE FROM api_tokens WHERE id = ?", (token_id,)) == 1


def has_sealed_secrets(path: Path) -> bool:
    """Whether the database at ``path`` holds secrets sealed with a store key (read-only
    look; a missing file or one without the table holds none)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            tables = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'connections'"
            ).fetchall()
            return bool(tables) and bool(db.execute(
                "SELECT 1 FROM connections WHERE secrets != '{}' LIMIT 1").fetchall())
    except sqlite3.Error as exc:
        raise StoreError(_explain(path, exc)) from None


def create_state_directory(directory: Path) -> None:
    """The directory the database lives in (0700 when created here)."""
    if directory.exists() and not directory.is_dir():
        raise StoreError(f"{directory} is not a directory: point store.path at a file in a "
                         "writable directory")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the state directory {directory}: {exc.strerror}; "
                         "point store.path at a writable directory") from None


def _create_private(path: Path) -> None:
    """The state directory (0700) and an empty database file (0600), unless they exist."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory: set store.path to a file in it, "
                         f"e.g. {path / 'bridge.db'}")
    create_state_directory(path.parent)
    # SQLite would silently open a write-protected database read-only and fail later.
    for target in (path.parent, path):
        if target.exists() and not os.access(target, os.W_OK):
            raise StoreError(_cannot_write(path, f"{target} is read-only"))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(_cannot_write(path, exc.strerror)) from None
    try:
        os.fchmod(descriptor, 0o600)  # the umask may have taken bits off the mode
    finally:
        os.close(descriptor)


def _explain(path: Path, exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in _CORRUPT:
        return (f"{path} is not a usable bridge database ({exc}): it is corrupt or truncated; "
                "restore it from a backup, or move it away to start with an empty store")
    if code in _NOT_WRITABLE:
        return _cannot_write(path, str(exc))
    return f"{path}: {exc}"


def _cannot_write(path: Path, reason: str | None) -> str:
    return (f"cannot write {path} ({reason}): make {path.parent} and the database files "
            "writable for the service user")


_UNAVAILABLE = {
    sqlite3.SQLITE_FULL: "the database or disk is full (free space on the store's disk)",
    sqlite3.SQLITE_READONLY: "the store is read-only (check the file's and directory's "
                             "permissions and that the disk is mounted writable)",
    sqlite3.SQLITE_IOERR: "disk I/O error (check the disk holding the store)",
}


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # or an extended code


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> Row | None:
    """The first row, with the statement run to its end: a statement left half-read keeps a
    read transaction open, which later turns ``BEGIN IMMEDIATE`` into SQLITE_BUSY_SNAPSHOT."""
    rows = list(await db.execute_fetchall(sql, params))
    return rows[0] if rows else None


async def _insert_inbox(db: aiosqlite.Connection,
                        appends: Sequence[_Append]) -> list[int | None]:
    """New event ids in order; None for a delivery already stored, in the database or
    earlier in this batch (``DO NOTHING`` skips it, so it returns no row)."""
    rows = await db.execute_fetchall(
        "INSERT INTO inbox_events (source, delivery_id, received_at, payload) VALUES "
        + ", ".join(["(?, ?, ?, ?)"] * len(appends))
        + " ON CONFLICT(source, delivery_id) DO NOTHING RETURNING id, source, delivery_id",
        [value for a in appends for value in (a.source, a.delivery_id, a.received_at, a.payload)],
    )
    new_ids = {(row[1], row[2]): int(row[0]) for row in rows}
    event_ids = [new_ids.pop((a.source, a.delivery_id), None) for a in appends]
    await db.executemany(
        "INSERT INTO inbox_targets (event_id, sci_id) VALUES (?, ?)",
        [(event_id, sci_id) for event_id, a in zip(event_ids, appends, strict=True)
         if event_id is not None for sci_id in a.sci_ids],
    )
    return event_ids


async def _version(db: aiosqlite.Connection) -> int:
    row = await _one(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    return int(row[0]) if row else 0


async def _insert_outbox(db: aiosqlite.Connection, draft: OutboxDraft) -> bool:
    """Queue a write unless its key is queued, was already done, or waits as a dead letter."""
    if await _one(db, "SELECT 1 FROM done_keys WHERE idempotency_key = ?1 "
                  "UNION ALL SELECT 1 FROM dead_letters WHERE idempotency_key = ?1",
                  (draft.idempotency_key,)):
        return False
    now = time.time()
    cursor = await db.execute(
        "INSERT INTO outbox (sci_id, idempotency_key, operation, payload, next_attempt_at, "
        "created_at, item) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING",
        (draft.sci_id, draft.idempotency_key, draft.operation, draft.payload, now, now,
         draft.item))
    return cursor.rowcount == 1


async def _insert_link(db: aiosqlite.Connection, link: Link) -> None:
    existing = await _one(
        db, "SELECT * FROM links WHERE sci_id = ? AND (jira_issue_id = ? "
        "OR zoho_record_id = ?)", (link.sci_id, link.jira_issue_id, link.zoho_record_id))
    if existing is not None:
        raise LinkConflict(_link(existing))
    await db.execute(
        "INSERT INTO links VALUES (?, ?, ?, ?, ?, ?, ?)",
        (link.id, link.sci_id, link.jira_issue_id, link.jira_issue_key, link.zoho_record_id,
         link.origin, link.created_at))


async def _insert_history(db: aiosqlite.Connection, entry: SyncEntry) -> None:
    await db.execute(
        "INSERT INTO sync_history (sci_id, direction, started_at, finished_at, changes, "
        "errors, summary, link_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.sci_id, entry.direction, entry.started_at, entry.finished_at,
         entry.changes, entry.errors, entry.summary, entry.link_id))


def _history(row: Row) -> SyncEntry:
    return SyncEntry(sci_id=row["sci_id"], direction=row["direction"],
                     started_at=row["started_at"], finished_at=row["finished_at"],
                     changes=row["changes"], errors=row["errors"], summary=row["summary"],
                     link_id=row["link_id"])


def _sci(row: Row) -> SciRecord:
    return SciRecord(id=row["id"], name=row["name"], kind=row["kind"],
                     definition=bytes(row["definition"]), enabled=bool(row["enabled"]),
                     status=row["status"], status_reason=row["status_reason"],
                     updated_at=row["updated_at"], origin=row["origin"])


def _link(row: Row) -> Link:
    return Link(id=row["id"], sci_id=row["sci_id"], jira_issue_id=row["jira_issue_id"],
                jira_issue_key=row["jira_issue_key"], zoho_record_id=row["zoho_record_id"],
                origin=row["origin"], created_at=row["created_at"])


def _outbox(row: Row) -> OutboxItem:
    return OutboxItem(id=row["id"], sci_id=row["sci_id"],
                      idempotency_key=row["idempotency_key"], operation=row["operation"],
                      payload=bytes(row["payload"]), attempts=row["attempts"],
                      next_attempt_at=row["next_attempt_at"], last_error=row["last_error"],
                      created_at=row["created_at"], item=row["item"])


def _api_token(row: Row) -> ApiToken:
    return ApiToken(id=row["id"], label=row["label"], role=row["role"],
                    created_at=row["created_at"])
