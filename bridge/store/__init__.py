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
from bridge.store.sqlite import SqliteStore, has_sealed_secrets

__all__ = [
    "Connection", "DeadLetter", "InboxItem", "Link", "LinkConflict", "OutboxDraft",
    "OutboxItem", "SciRecord", "SqliteStore", "Store", "StoreBusy", "StoreError", "SyncEntry",
    "has_sealed_secrets",
]
