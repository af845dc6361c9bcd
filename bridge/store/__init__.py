"""Durable state behind one interface (``Store``); SQLite is the embedded default."""

from bridge.store.base import (
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
    SyncEntry,
)
from bridge.store.sqlite import SqliteStore, create_state_directory, has_sealed_secrets

__all__ = [
    "Connection", "DeadLetter", "InboxItem", "Link", "LinkConflict", "OutboxDraft",
    "OutboxItem", "SciRecord", "SqliteStore", "Store", "StoreBusy", "StoreError", "SyncEntry",
    "create_state_directory", "has_sealed_secrets",
]
