"""What admin operations return: plain structs that templates, JSON and the CLI all render.

The JSON API's OpenAPI schemas are generated from these same structs, so the document and
the answers cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from bridge.sci import SciConfig
from bridge.store import SyncEntry

Health = Literal["ok", "problem", "unchecked", "not_configured"]
Origin = Literal["config", "store"]


class View(msgspec.Struct, frozen=True, kw_only=True):
    pass


class ConnectionStatus(View, frozen=True, kw_only=True):
    name: str  # "jira", "zoho.crm", "zoho.projects"
    title: str
    configured: bool
    health: Health
    problem: str = ""
    # Jira
    site_url: str = ""
    account: str = ""
    delivery: str = ""
    webhook_secret_set: bool = False
    # Zoho
    data_center: str = ""
    api_domain: str = ""
    client_id: str = ""  # never the secret
    token_stored: bool = False
    token_expires_at: float = 0.0
    required_scopes: list[str] = []
    granted_scopes: list[str] = []
    missing_scopes: list[str] = []


class ActorView(View, frozen=True, kw_only=True):
    state: str  # running | backoff | failed | stopped | not_running
    restarts: int = 0
    last_error: str = ""
    mailbox_depth: int = 0


class SciSummary(View, frozen=True, kw_only=True):
    id: str
    name: str
    mode: str
    enabled: bool
    status: str
    status_reason: str = ""
    origin: Origin
    read_only: bool
    jira_projects: list[str] = []
    jira_issue_type: str = ""
    zoho_system: str = ""
    zoho_source: str = ""
    mappings: int = 0
    rule: str = ""
    auto_create: bool = False
    comments: bool = False
    attachments: bool = False
    status_sync: bool = False
    associated_records: bool = False
    dead_letters: int = 0
    actor: ActorView
    latest: list[SyncEntry] = []  # the newest entry per direction
    problem: str = ""  # the stored definition could not be read


class SciDetail(View, frozen=True, kw_only=True):
    summary: SciSummary
    definition: SciConfig | None = None


class SyncRequest(View, frozen=True, kw_only=True):
    sci_id: str
    accepted: bool
    detail: str


class DeadLetterView(View, frozen=True, kw_only=True):
    id: int
    sci_id: str
    operation: str
    idempotency_key: str
    attempts: int
    reason: str
    died_at: float
    payload: str  # UTF-8 text of the write (shortened when long)


class ReplayResult(View, frozen=True, kw_only=True):
    replayed: list[int]  # dead-letter ids now back in the outbox
    detail: str


class Me(View, frozen=True, kw_only=True):
    name: str
    role: str
    via: str  # session | token | proxy
