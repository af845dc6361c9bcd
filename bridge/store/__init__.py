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
    StoreError,
    SyncEntry,
    UnitOfWork,
)
from bridge.store.sqlite import SqliteStore

__all__ = [
    "ApiToken", "Connection", "DeadLetter", "InboxItem", "Link", "LinkConflict", "OutboxDraft",
    "OutboxItem", "SciRecord", "SqliteStore", "Store", "StoreError", "SyncEntry",
    "UnitOfWork",
]
