"""Durable state behind one interface (``Store``); SQLite is the embedded default."""

from bridge.store.base import (
    ApiToken,
    Connection,
    DeadLetter,
    InboxItem,
    Link,
    LinkConflict,
    OutboxDraft,
    OutboxItem,
    SciRecord,
    Store,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    SyncEntry,
    UnitOfWork,
)
from bridge.store.sqlite import SqliteStore, create_state_directory, has_sealed_secrets

__all__ = [
    "ApiToken", "Connection", "DeadLetter", "InboxItem", "Link", "LinkConflict", "OutboxDraft",
    "OutboxItem", "SciRecord", "SqliteStore", "Store", "StoreBusy", "StoreError",
    "StoreUnavailable", "SyncEntry", "UnitOfWork", "create_state_directory",
    "has_sealed_secrets",
]
