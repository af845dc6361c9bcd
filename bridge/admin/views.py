"""What admin operations return: plain structs that templates, JSON and the CLI all render.

The JSON API's OpenAPI schemas are generated from these same structs, so the document and
the answers cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from bridge.sci import SciConfig
from bridge.sides.base import AssociatedGroup
from bridge.store import SyncEntry

# A Jira issue key as people type it (any case; SUP-12) and a Zoho record id.
ISSUE_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]{0,17}$"
RECORD_ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"
MIN_SEARCH = 2

Health = Literal["ok", "problem", "unchecked", "not_configured"]
# config: declared in the config file; ui: made in the admin UI/API; removed: no longer in
# the config file (not run, its links kept)
Origin = Literal["config", "ui", "removed"]


class View(msgspec.Struct, frozen=True, kw_only=True):
    pass


class ConnectionStatus(View, frozen=True, kw_only=True):
    name: str  # "jira", "zoho.crm", "zoho.projects"
    title: str
    configured: bool
    health: Health
    problem: str = ""
    set_up_in: Literal["config", "ui", ""] = ""  # the config file, or the admin UI/API
    # Jira
    site_url: str = ""
    account: str = ""
    delivery: str = ""
    webhook_secret_set: bool = False
    webhook: str = ""  # the daemon's Jira webhook registration, e.g. "registered (id 3)"
    # Zoho
    mode: str = ""  # app | providers
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
    links: int = 0
    outbox_depth: int = 0  # writes waiting (a backfill's creates among them)
    actor: ActorView
    latest: list[SyncEntry] = []  # the newest entry per direction
    problem: str = ""  # the stored definition could not be read


class SciDeleted(View, frozen=True, kw_only=True):
    sci_id: str
    links_kept: bool


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


# -- the issue panel ---------------------------------------------------------------------
class IssueView(View, frozen=True, kw_only=True):
    key: str
    summary: str
    project: str
    issue_type: str


class PanelSci(View, frozen=True, kw_only=True):
    """An SCI that applies to the issue, with what linking through it looks like."""

    id: str
    name: str
    mode: str
    zoho_system: str  # crm | projects
    zoho_source: str  # e.g. "Zoho CRM · Cases"
    link_label: str  # e.g. "Link a Zoho CRM record"
    problem: str = ""  # e.g. "Zoho CRM authentication required: …"
    sign_in_url: str = ""  # Providers mode, viewer not signed in to Zoho CRM yet


class PreviewField(View, frozen=True, kw_only=True):
    name: str
    value: str


class RecordPreview(View, frozen=True, kw_only=True):
    sci_id: str
    record_id: str
    title: str
    url: str  # Open in Zoho
    fields: list[PreviewField] = []


class AssociatedRecords(View, frozen=True, kw_only=True):
    """A linked record's related lists, read through the per-link cache."""

    link_id: str
    fetched_at: float = 0.0  # when they were read from Zoho (0: never)
    groups: list[AssociatedGroup] = []
    problem: str = ""  # why the latest read failed (groups then hold the older copy, if any)


class LinkView(View, frozen=True, kw_only=True):
    id: str
    sci_id: str
    sci_name: str
    jira_issue_key: str
    zoho_record_id: str
    origin: str  # manual | auto
    read_only: bool  # auto-managed links cannot be unlinked by hand
    created_at: float
    synced_at: float = 0.0  # when a pass last looked at both sides (0: not yet)
    problems: list[str] = []  # what the last pass could not sync
    parked: bool = False  # a write of this link is a dead letter: no sync until replayed
    last: SyncEntry | None = None  # the link's newest history entry
    history: list[SyncEntry] = []  # newest first
    record: RecordPreview | None = None  # filled on the panel (a live read)
    record_problem: str = ""  # why the record could not be read
    associated: AssociatedRecords | None = None  # on the panel, when the SCI shows them


class Panel(View, frozen=True, kw_only=True):
    issue: IssueView
    scis: list[PanelSci]
    links: list[LinkView]


class Unlinked(View, frozen=True, kw_only=True):
    link_id: str
    detail: str


class LinkRequest(View, frozen=True, kw_only=True):
    """Link a Jira issue to a Zoho record through one SCI (the panel's Link button)."""

    sci_id: str
    issue_key: Annotated[str, msgspec.Meta(pattern=ISSUE_KEY_PATTERN)]
    record_id: Annotated[str, msgspec.Meta(pattern=RECORD_ID_PATTERN)]


# -- live metadata for the SCI form ------------------------------------------------------
class JiraProjectView(View, frozen=True, kw_only=True):
    key: str
    name: str


class JiraIssueTypeView(View, frozen=True, kw_only=True):
    name: str
    statuses: list[str] = []  # the statuses its workflow uses in this project


class JiraProjectDetail(View, frozen=True, kw_only=True):
    key: str
    name: str
    issue_types: list[JiraIssueTypeView] = []


class JiraFieldView(View, frozen=True, kw_only=True):
    id: str  # what a mapping's ``jira`` names
    name: str
    type: str = ""  # the field's schema type (string, number, option, …)


class ZohoModuleView(View, frozen=True, kw_only=True):
    api_name: str  # what ``zoho.module`` names
    label: str


class ZohoFieldView(View, frozen=True, kw_only=True):
    api_name: str  # what a mapping's ``zoho`` and a rule's ``field`` name
    label: str
    type: str = ""
    picklist: list[str] = []  # the values a picklist field allows


class PortalView(View, frozen=True, kw_only=True):
    id: str
    name: str


class ZohoProjectView(View, frozen=True, kw_only=True):
    id: str
    name: str
