"""Versioned schema migrations, applied in order at start-up, each in its own transaction.

Append only: a released migration is never edited; a change of schema is a new entry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
CREATE TABLE connections (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('jira', 'zoho_crm', 'zoho_projects')),
    settings TEXT NOT NULL DEFAULT '{}',
    secrets TEXT NOT NULL DEFAULT '{}',          -- values sealed with the store key
    state TEXT NOT NULL DEFAULT 'unknown',
    state_message TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL
);
CREATE TABLE scis (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    definition BLOB NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'active',
    status_reason TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL
);
CREATE TABLE links (
    id TEXT PRIMARY KEY,
    sci_id TEXT NOT NULL REFERENCES scis(id) ON DELETE CASCADE,
    jira_issue_id TEXT NOT NULL,
    jira_issue_key TEXT NOT NULL,
    zoho_record_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'auto')),
    created_at REAL NOT NULL,
    UNIQUE (sci_id, jira_issue_id),
    UNIQUE (sci_id, zoho_record_id)
);
CREATE TABLE synced_state (
    link_id TEXT PRIMARY KEY REFERENCES links(id) ON DELETE CASCADE,
    state BLOB NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE cursors (
    sci_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (sci_id, name)
);
CREATE TABLE inbox_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    payload BLOB NOT NULL,
    UNIQUE (source, delivery_id)
);
CREATE TABLE inbox_targets (
    event_id INTEGER NOT NULL REFERENCES inbox_events(id) ON DELETE CASCADE,
    sci_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
    outcome TEXT NOT NULL DEFAULT '',
    done_at REAL,
    PRIMARY KEY (event_id, sci_id)
);
CREATE INDEX inbox_targets_pending ON inbox_targets (sci_id, status, event_id);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sci_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    operation TEXT NOT NULL,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX outbox_due ON outbox (sci_id, next_attempt_at);
CREATE TABLE done_keys (
    idempotency_key TEXT PRIMARY KEY,
    done_at REAL NOT NULL
);
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sci_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    died_at REAL NOT NULL
);
CREATE TABLE sync_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sci_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    changes INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX sync_history_recent ON sync_history (sci_id, id DESC);
"""),
    (2, "one dead letter per idempotency key", """
CREATE UNIQUE INDEX dead_letters_key ON dead_letters (idempotency_key);
"""),
    (3, "outbox work and history per sync item", """
ALTER TABLE outbox ADD COLUMN item TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN item TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_item ON outbox (sci_id, item);
CREATE INDEX dead_letters_item ON dead_letters (sci_id, item);
ALTER TABLE sync_history ADD COLUMN link_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sync_history_link ON sync_history (link_id, id DESC);
"""),
    (4, "API tokens for the admin API (only their hashes)", """
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
"""),
    (5, "comment mirrors: each comment's copy on the other side of its link", """
CREATE TABLE comment_mirrors (
    link_id TEXT NOT NULL REFERENCES links(id) ON DELETE CASCADE,
    origin TEXT NOT NULL CHECK (origin IN ('jira', 'zoho')),
    origin_id TEXT NOT NULL,
    mirror_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (link_id, origin, origin_id)
);
"""),
    (6, "attachment mirrors: each file's copy on the other side of its link", """
CREATE TABLE attachment_mirrors (
    link_id TEXT NOT NULL REFERENCES links(id) ON DELETE CASCADE,
    origin TEXT NOT NULL CHECK (origin IN ('jira', 'zoho')),
    origin_id TEXT NOT NULL,
    mirror_id TEXT NOT NULL,                     -- '' for a file skipped (over the cap)
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (link_id, origin, origin_id)
);
"""),
    (7, "associated records shown on the issue panel, cached per link", """
CREATE TABLE associated_cache (
    link_id TEXT PRIMARY KEY REFERENCES links(id) ON DELETE CASCADE,
    fetched_at REAL NOT NULL,
    payload BLOB NOT NULL
);
"""),
    (8, "SCIs created in the admin UI or API beside those declared in the config", """
ALTER TABLE scis ADD COLUMN origin TEXT NOT NULL DEFAULT 'config';
"""),
]

LATEST = MIGRATIONS[-1][0]


def statements(sql: str) -> Iterator[str]:
    """Split a script into complete statements (semicolons in literals and triggers are kept)."""
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")
