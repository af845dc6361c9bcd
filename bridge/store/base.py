"""The store interface and its records.

Everything that must survive a restart goes through ``Store``; callers never see SQL, so
another backend (e.g. PostgreSQL for several replicas) can implement the same protocol.
All times are UTC epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import msgspec

from bridge.sync.model import AttachmentMirror, CommentMirror

ConnectionKind = Literal["jira", "zoho_crm", "zoho_projects"]
LinkOrigin = Literal["manual", "auto"]
SciOrigin = Literal["config", "ui"]  # declared in the config file, or made in the admin UI/API
SCI_DELETED = "deleted"  # status of a UI-made SCI deleted with its links kept
TargetStatus = Literal["pending", "done", "skipped", "failed"]
TokenRole = Literal["admin", "user"]


class StoreError(Exception):
    pass


class StoreBusy(StoreError):
    """Another process holds the database longer than the busy timeout; retry later."""


class StoreUnavailable(StoreError):
    """The store cannot be written now (disk full, read-only, I/O error); retry once an
    operator has fixed the cause. Nothing of the failed write was kept."""


class LinkConflict(StoreError):
    def __init__(self, existing: Link) -> None:
        super().__init__(
            f"already linked: {existing.jira_issue_key} ↔ {existing.zoho_record_id} "
            f"in SCI {existing.sci_id} (link {existing.id})"
        )
        self.existing = existing


class Record(msgspec.Struct, frozen=True, kw_only=True):
    pass


class Connection(Record, frozen=True):
    name: str
    kind: ConnectionKind
    settings: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    state: str = "unknown"
    state_message: str = ""
    updated_at: float = 0.0

    def __repr__(self) -> str:
        return (f"Connection(name={self.name!r}, kind={self.kind!r}, state={self.state!r}, "
                f"secrets=<{len(self.secrets)} hidden>)")


class SciRecord(Record, frozen=True):
    id: str
    name: str
    kind: str
    definition: bytes
    enabled: bool = True
    status: str = "active"
    status_reason: str = ""
    updated_at: float = 0.0
    origin: SciOrigin = "config"


class Link(Record, frozen=True):
    id: str
    sci_id: str
    jira_issue_id: str
    jira_issue_key: str
    zoho_record_id: str
    origin: LinkOrigin
    created_at: float


class InboxItem(Record, frozen=True):
    event_id: int
    source: str
    delivery_id: str
    received_at: float
    payload: bytes


class OutboxDraft(Record, frozen=True):
    """A write an SCI wants done exactly once (the key makes repeats harmless)."""

    sci_id: str
    idempotency_key: str
    operation: str
    payload: bytes
    item: str = ""  # the link or record the write belongs to (parking is per item)


class OutboxItem(OutboxDraft, frozen=True, kw_only=True):
    id: int
    attempts: int
    next_attempt_at: float
    last_error: str
    created_at: float


class DeadLetter(OutboxDraft, frozen=True, kw_only=True):
    id: int
    attempts: int
    reason: str
    died_at: float


class SyncEntry(Record, frozen=True):
    sci_id: str
    direction: Literal["jira_to_zoho", "zoho_to_jira", "poll"]
    started_at: float
    finished_at: float
    changes: int
    errors: int
    summary: str
    link_id: str = ""


class UnitOfWork(Record, frozen=True):
    """Everything one sync pass (or one finished write) changes, committed atomically."""

    sci_id: str
    events: Sequence[tuple[int, TargetStatus, str]] = ()  # inbox targets to close
    outbox: Sequence[OutboxDraft] = ()
    new_links: Sequence[Link] = ()
    states: Mapping[str, bytes] = {}  # link id → synced state
    cursors: Mapping[str, str] = {}
    history: Sequence[SyncEntry] = ()
    done_outbox: int | None = None  # the outbox item this unit completes
    superseded: Sequence[int] = ()  # outbox items replaced by this pass's decisions
    mirrors: Sequence[CommentMirror] = ()  # comment copies made or rewritten
    unmirrored: Sequence[CommentMirror] = ()  # comment copies deleted with their original
    files: Sequence[AttachmentMirror] = ()  # attachment copies, pairs and skips recorded
    unfiled: Sequence[AttachmentMirror] = ()  # attachment pairs forgotten


class CachedAssociated(Record, frozen=True):
    """A link's associated records as last read from Zoho (``payload``: encoded groups)."""

    link_id: str
    fetched_at: float
    payload: bytes


class ApiToken(Record, frozen=True):
    """An admin API token; the token itself is shown once and only its hash is kept."""

    id: str
    label: str
    role: TokenRole
    created_at: float


class Store(Protocol):
    # lifecycle
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def ping(self) -> None: ...

    # connections (secrets encrypted at rest)
    async def put_connection(self, connection: Connection) -> None: ...
    async def get_connection(self, name: str) -> Connection | None: ...
    async def list_connections(self) -> list[Connection]: ...
    async def set_connection_state(self, name: str, state: str, message: str) -> None: ...
    async def clear_connection_secrets(self, name: str) -> None: ...
    async def delete_connection(self, name: str) -> None: ...

    # SCIs
    async def put_sci(self, record: SciRecord) -> None: ...
    async def get_sci(self, sci_id: str) -> SciRecord | None: ...
    async def list_scis(self) -> list[SciRecord]: ...
    async def set_sci_status(self, sci_id: str, status: str, reason: str) -> None: ...
    async def delete_sci(self, sci_id: str) -> None: ...

    # links and their last agreed state
    async def create_link(self, sci_id: str, jira_issue_id: str, jira_issue_key: str,
                          zoho_record_id: str, origin: LinkOrigin) -> Link: ...
    async def get_link(self, link_id: str) -> Link | None: ...
    async def find_link(self, sci_id: str, *, jira_issue_id: str | None = None,
                        zoho_record_id: str | None = None) -> Link | None: ...
    async def list_links(self, sci_id: str) -> list[Link]: ...
    async def link_count(self, sci_id: str) -> int: ...
    async def delete_link(self, link_id: str) -> None: ...
    async def get_synced_state(self, link_id: str) -> bytes | None: ...
    async def put_synced_state(self, link_id: str, state: bytes) -> None: ...

    async def comment_mirrors(self, link_id: str) -> list[CommentMirror]: ...
    async def attachment_mirrors(self, link_id: str) -> list[AttachmentMirror]: ...
    async def attachment_link(self, sci_id: str, jira_attachment_id: str) -> str | None:
        """The link whose mirror table holds this Jira file (as original or as copy)."""
    async def get_associated(self, link_id: str) -> CachedAssociated | None: ...
    async def put_associated(self, cached: CachedAssociated) -> None: ...

    # cursors
    async def get_cursor(self, sci_id: str, name: str) -> str | None: ...
    async def put_cursor(self, sci_id: str, name: str, value: str) -> None: ...

    # inbox
    async def inbox_append(self, source: str, delivery_id: str, payload: bytes,
                           sci_ids: Sequence[str]) -> int | None: ...
    async def inbox_pending(self, sci_id: str, limit: int = 100) -> list[InboxItem]: ...
    async def inbox_finish(self, event_id: int, sci_id: str, status: TargetStatus,
                           outcome: str = "", enqueue: Sequence[OutboxDraft] = ()) -> None:
        """Close a pending target and queue its writes atomically (StoreError if not pending)."""
    async def inbox_depth(self, sci_id: str) -> int: ...
    async def inbox_oldest_age(self, sci_id: str, now: float) -> float: ...

    # outbox and dead letters
    async def outbox_put(self, draft: OutboxDraft) -> bool:
        """False when the key is already queued, done, or parked as a dead letter."""
    async def outbox_due(self, sci_id: str, now: float, limit: int = 50) -> list[OutboxItem]: ...
    async def outbox_done(self, item_id: int) -> None: ...
    async def outbox_retry(self, item_id: int, next_attempt_at: float, error: str) -> None: ...
    async def outbox_dead(self, item_id: int, reason: str) -> None: ...
    async def outbox_depth(self, sci_id: str) -> int: ...
    async def outbox_oldest_age(self, sci_id: str, now: float) -> float: ...
    async def outbox_items(self, sci_id: str, item: str) -> list[OutboxItem]: ...
    async def outbox_started(self, item_id: int) -> None:
        """Count an attempt before a write that is not idempotent is sent."""
    async def parked_items(self, sci_id: str) -> set[str]: ...
    async def list_dead_letters(self, sci_id: str | None = None) -> list[DeadLetter]: ...
    async def replay_dead_letter(self, dead_id: int) -> int: ...
    async def discard_dead_letter(self, dead_id: int) -> None: ...

    # one unit of work
    async def commit(self, work: UnitOfWork) -> None: ...

    # retention
    async def prune(self, before: float, keep_keys_containing: str) -> dict[str, int]:
        """Delete finished work older than ``before``: done idempotency keys (except those
        containing ``keep_keys_containing``, which guard writes that must never repeat),
        inbox events no SCI still waits on, and sync history. Counts per table."""

    # sync history
    async def record_sync(self, entry: SyncEntry) -> None: ...
    async def link_history(self, link_id: str, limit: int = 20) -> list[SyncEntry]: ...
    async def recent_syncs(self, sci_id: str, limit: int = 20) -> list[SyncEntry]: ...
    async def last_sync(self, sci_id: str) -> SyncEntry | None: ...

    # API tokens (hashes only)
    async def put_api_token(self, token: ApiToken, token_hash: str) -> None: ...
    async def find_api_token(self, token_hash: str) -> ApiToken | None: ...
    async def list_api_tokens(self) -> list[ApiToken]: ...
    async def delete_api_token(self, token_id: str) -> bool: ...
