"""Admin operations over the running daemon's ``Runtime`` (or a CLI's offline one).

Each operation exists once here; the admin pages, the JSON API and the CLI call it and only
render the answer. Errors a person can act on are ``NotFound``, ``Refused`` or ``Invalid``.
Link operations change state through the SCI's actor (its single writer); reads (the issue,
record search and previews) use the daemon's shared connections directly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import msgspec

from actors.messages import Call, PollNow, Reply
from adapters.http import RemoteError
from adapters.zoho.datacenters import data_center
from adapters.zoho.oauth import StoredTokens, missing_scopes
from bridge.admin.scopes import CRM_SCOPES, PROJECTS_SCOPES
from bridge.admin.viewer import VIEWER
from bridge.admin.views import (
    ISSUE_KEY_PATTERN,
    MIN_SEARCH,
    RECORD_ID_PATTERN,
    ActorView,
    AssociatedRecords,
    ConnectionStatus,
    DeadLetterView,
    Health,
    IssueView,
    LinkView,
    Origin,
    Panel,
    PanelSci,
    PreviewField,
    RecordPreview,
    ReplayResult,
    SciDetail,
    SciSummary,
    SyncRequest,
    Unlinked,
)
from bridge.config import Config, ZohoConnection
from bridge.connections import CRM, PROJECTS, Connections
from bridge.engine import state as link_state
from bridge.engine.engine import ZOHO_CURSOR, NotReady, SciEngine
from bridge.engine.wiring import engine_for, zoho_side
from bridge.runtime import Runtime
from bridge.sci import SciConfig
from bridge.sides.base import AssociatedGroup, SideError, ZohoSide
from bridge.store import DeadLetter, Link, SciRecord, StoreError, SyncEntry
from bridge.store.base import SCI_DELETED, CachedAssociated, ConnectionKind
from bridge.sync import keys
from bridge.sync.model import ZohoSnapshot
from bridge.tokens import StoreTokenStore

CONNECTION_TITLES = {"jira": "Jira Cloud", CRM: "Zoho CRM", PROJECTS: "Zoho Projects"}
LOGIN_REQUIRED = ("Zoho CRM login required: sign in to Zoho CRM with your own account to "
                  "search, link and preview records here")
SIGN_IN_PATH = "/oauth/zoho/start"  # the panel's "Sign in to Zoho CRM" (Providers mode)
HISTORY_SCAN = 1000  # newest entries read when filtering an SCI's history
CONFLICT_MARK = "changed on both sides"  # how the sync core words a conflict
PAYLOAD_PREVIEW = 2000
MAX_ID = 2**63 - 1  # SQLite's largest integer
SEARCH_LIMIT = 20
LINK_HISTORY = 10
ASK_TIMEOUT = 30.0  # how long an HTTP request waits for an SCI's actor
ISSUE_KEY = re.compile(ISSUE_KEY_PATTERN)
RECORD_ID = re.compile(RECORD_ID_PATTERN)
# Problems are kept as text (readiness shows them): these words mark a sign-in problem.
AUTH_WORDS = ("needs attention", "auth", "token", "invalid_client", "scope", "401", "403",
              "revoked")
T = TypeVar("T")


class AdminError(Exception):
    """A request an operator can correct; the message says what is wrong."""


class NotFound(AdminError):
    pass


class Refused(AdminError):
    pass


class Invalid(AdminError):
    """The request itself is malformed (a too-short search, a bad issue key)."""


# -- connections ------------------------------------------------------------------------
async def connections(runtime: Runtime) -> list[ConnectionStatus]:
    return [await _connection(runtime, name) for name in CONNECTION_TITLES]


async def connection(runtime: Runtime, name: str) -> ConnectionStatus:
    if name not in CONNECTION_TITLES:
        raise NotFound(f"no connection {name!r}; known: {', '.join(CONNECTION_TITLES)}")
    return await _connection(runtime, name)


async def probe_connection(runtime: Runtime, name: str) -> ConnectionStatus:
    """Probe every connection again (they share one probe round) and report ``name``."""
    await connection(runtime, name)
    if runtime.recheck_connections is None:
        raise Refused("connections can only be tested by the running daemon")
    await runtime.recheck_connections()
    return await _connection(runtime, name)


def _health(runtime: Runtime, name: str, configured: bool) -> tuple[Health, str]:
    if not configured:
        return "not_configured", ""
    if name not in runtime.connection_problems:
        return "unchecked", "not checked yet"
    problem = runtime.connection_problems[name]
    return ("problem", problem) if problem else ("ok", "")


async def _connection(runtime: Runtime, name: str) -> ConnectionStatus:
    config = runtime.config
    if name == "jira":
        return _jira_status(runtime, config)
    settings = config.zoho.crm if name == CRM else config.zoho.projects
    health, problem = _health(runtime, name, settings is not None)
    base = ConnectionStatus(
        name=name, title=CONNECTION_TITLES[name], configured=settings is not None,
        health=health, problem=problem,
        set_up_in="" if settings is None else "ui" if name in runtime.ui_connections
        else "config",
        required_scopes=list(CRM_SCOPES if name == CRM else PROJECTS_SCOPES))
    if settings is None:
        return base
    kind: ConnectionKind = "zoho_crm" if name == CRM else "zoho_projects"
    tokens = await StoreTokenStore(runtime.store, kind).load(name)
    return _zoho_status(base, name, settings, tokens)


def _jira_status(runtime: Runtime, config: Config) -> ConnectionStatus:
    jira = config.jira
    health, problem = _health(runtime, "jira", jira is not None)
    if jira is None:
        return ConnectionStatus(name="jira", title=CONNECTION_TITLES["jira"], configured=False,
                                health=health)
    return ConnectionStatus(
        name="jira", title=CONNECTION_TITLES["jira"], configured=True, health=health,
        problem=problem, set_up_in="config", site_url=jira.site_url, account=jira.email,
        delivery=jira.delivery, webhook_secret_set=bool(jira.webhook_secret),
        webhook=runtime.webhook if jira.delivery != "poll" else "not used (delivery = poll)")


def _zoho_status(base: ConnectionStatus, name: str, settings: ZohoConnection,
                 tokens: StoredTokens | None) -> ConnectionStatus:
    center = data_center(settings.data_center)
    default_api = center.api if name == CRM else center.projects
    granted = list(tokens.scopes) if tokens else []
    return msgspec.structs.replace(
        base, mode=settings.mode, data_center=settings.data_center,
        client_id=settings.client_id,
        api_domain=settings.api_url or (tokens.api_domain if tokens else "") or default_api,
        token_stored=tokens is not None,
        token_expires_at=tokens.expires_at if tokens else 0.0,
        granted_scopes=granted,
        missing_scopes=missing_scopes(base.required_scopes, granted) if granted else [])


# -- SCIs -------------------------------------------------------------------------------
async def scis(runtime: Runtime) -> list[SciSummary]:
    dead = _count_by_sci(await runtime.store.list_dead_letters())
    return [await _summary(runtime, record, dead.get(record.id, 0))
            for record in await runtime.store.list_scis() if record.status != SCI_DELETED]


async def sci(runtime: Runtime, sci_id: str) -> SciDetail:
    record = await _record(runtime, sci_id)
    dead = len(await runtime.store.list_dead_letters(sci_id))
    return SciDetail(summary=await _summary(runtime, record, dead),
                     definition=_definition(record))


async def sync_now(runtime: Runtime, sci_id: str) -> SyncRequest:
    """Ask the SCI's actor to poll now; refused when no actor is there to ask."""
    await _record(runtime, sci_id)
    _poll_now(runtime, sci_id, "manual")
    return SyncRequest(sci_id=sci_id, accepted=True, detail="sync requested")


async def backfill(runtime: Runtime, sci_id: str) -> SyncRequest:
    """Read every record of the SCI's Zoho source again: a record without an issue gets one
    (with auto_create), a linked one a pass. Creates wait in the outbox and go out in
    turns with live work; the SCI's ``outbox_depth`` shows what is left."""
    await _record(runtime, sci_id)
    if not _running_sci(runtime, sci_id).synchronized:
        raise Refused(f"SCI {sci_id} is a display item: it has nothing to backfill")
    _poll_now(runtime, sci_id, None)  # refused before the cursor moves when no actor runs
    await runtime.store.put_cursor(sci_id, ZOHO_CURSOR, "0.0")
    _poll_now(runtime, sci_id, "backfill")
    return SyncRequest(sci_id=sci_id, accepted=True,
                       detail="backfill started: every record of the Zoho source is read again")


def _poll_now(runtime: Runtime, sci_id: str, reason: str | None) -> None:
    """Offer the SCI's actor a poll (``reason`` None: only check that it can take one)."""
    info = runtime.supervisor.info(sci_id)
    if info is None:
        raise Refused(f"SCI {sci_id} has no running actor (disabled, or not in this daemon)")
    if info.state == "failed":
        raise Refused(f"SCI {sci_id}'s actor has failed: {info.last_error}")
    if reason is not None and not runtime.supervisor.offer(sci_id, PollNow(reason)):
        raise Refused(f"SCI {sci_id}'s mailbox is full; it is busy, try again shortly")


async def history(runtime: Runtime, sci_id: str, *, direction: str = "",
                  errors_only: bool = False, conflicts_only: bool = False,
                  limit: int = 100) -> list[SyncEntry]:
    """The SCI's sync history, newest first, optionally one direction, errors only or
    conflicts only (each conflict's summary names the field and both values)."""
    await _record(runtime, sci_id)
    entries = await runtime.store.recent_syncs(sci_id, limit=HISTORY_SCAN)
    chosen = [e for e in entries
              if (not direction or e.direction == direction) and (e.errors or not errors_only)
              and (CONFLICT_MARK in e.summary or not conflicts_only)]
    return chosen[:limit]


async def _record(runtime: Runtime, sci_id: str) -> SciRecord:
    record = await runtime.store.get_sci(sci_id)
    if record is None or record.status == SCI_DELETED:
        raise NotFound(f"no SCI {sci_id!r}")
    return record


def _definition(record: SciRecord) -> SciConfig | None:
    try:
        return msgspec.json.decode(record.definition, type=SciConfig)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


async def _summary(runtime: Runtime, record: SciRecord, dead_letters: int) -> SciSummary:
    declared = any(item.id == record.id for item in runtime.config.sci)
    origin: Origin = "config" if declared else "ui" if record.origin == "ui" else "removed"
    latest = _latest_per_direction(await runtime.store.recent_syncs(record.id, limit=50))
    common = SciSummary(
        id=record.id, name=record.name, mode="", enabled=record.enabled, status=record.status,
        status_reason=record.status_reason or (
            "no longer in the config file: not running, its links are kept"
            if origin == "removed" else ""),
        origin=origin, read_only=origin != "ui", dead_letters=dead_letters,
        actor=_actor(runtime, record.id), latest=latest,
        links=await runtime.store.link_count(record.id),
        outbox_depth=await runtime.store.outbox_depth(record.id))
    definition = _definition(record)
    if definition is None:
        return msgspec.structs.replace(
            common, problem="the stored definition cannot be read by this version")
    if runtime.per_user(definition):
        common = msgspec.structs.replace(common, status_reason=(
            "not running: Zoho CRM is in Providers mode (per-user sign-in), which runs no "
            "background automation; switch to App OAuth 2.0 on the Connections page"))
    return _describe(common, definition)


def _describe(common: SciSummary, sci: SciConfig) -> SciSummary:
    zoho = sci.zoho
    if zoho.system == "crm":
        source = f"CRM · {zoho.module}"
    else:
        source = f"Projects · portal {zoho.portal_id} · project {zoho.project_id} · {zoho.module}"
    return msgspec.structs.replace(
        common, mode=sci.mode, jira_projects=list(sci.jira_projects),
        jira_issue_type=sci.jira_issue_type, zoho_system=zoho.system, zoho_source=source,
        mappings=len(sci.mappings), rule=_rule(sci), auto_create=sci.auto_create,
        comments=sci.comments, attachments=sci.attachments, status_sync=sci.status_sync,
        associated_records=sci.associated_records)


def _rule(sci: SciConfig) -> str:
    rule = sci.rule
    if rule is None:
        return ""
    condition = f"{rule.field} {rule.operator.replace('_', ' ')}"
    if rule.value:
        condition += f" {rule.value}"
    return f"{condition} → {rule.status_when_met}, else {rule.status_when_not_met}"


def _actor(runtime: Runtime, sci_id: str) -> ActorView:
    info = runtime.supervisor.info(sci_id)
    if info is None:
        return ActorView(state="not_running")
    return ActorView(state=info.state, restarts=info.restarts, last_error=info.last_error,
                     mailbox_depth=info.mailbox_depth)


def _latest_per_direction(entries: list[SyncEntry]) -> list[SyncEntry]:
    newest: dict[str, SyncEntry] = {}
    for entry in entries:  # newest first
        newest.setdefault(entry.direction, entry)
    return list(newest.values())


# -- dead letters -----------------------------------------------------------------------
def dead_letter_id(raw: str) -> int:
    """A dead-letter id from a URL (digits only); one too large to exist is simply unknown."""
    if not raw.isdigit() or int(raw) > MAX_ID:
        raise NotFound(f"no dead letter {raw}")
    return int(raw)


async def dead_letters(runtime: Runtime, sci_id: str = "") -> list[DeadLetterView]:
    found = await runtime.store.list_dead_letters(sci_id or None)
    return [_dead_view(letter) for letter in found]


async def replay(runtime: Runtime, dead_id: int) -> ReplayResult:
    try:
        await runtime.store.replay_dead_letter(dead_id)
    except StoreError:
        raise NotFound(f"no dead letter {dead_id}") from None
    return ReplayResult(replayed=[dead_id], detail=f"dead letter {dead_id} is queued again")


async def replay_all(runtime: Runtime, sci_id: str = "") -> ReplayResult:
    replayed: list[int] = []
    for letter in await runtime.store.list_dead_letters(sci_id or None):
        try:
            await runtime.store.replay_dead_letter(letter.id)
        except StoreError:  # replayed or discarded meanwhile by someone else
            continue
        replayed.append(letter.id)
    return ReplayResult(replayed=replayed, detail=f"{len(replayed)} dead letter(s) queued again")


async def discard(runtime: Runtime, dead_id: int) -> None:
    if not any(letter.id == dead_id for letter in await runtime.store.list_dead_letters()):
        raise NotFound(f"no dead letter {dead_id}")
    await runtime.store.discard_dead_letter(dead_id)


def _dead_view(letter: DeadLetter) -> DeadLetterView:
    text = letter.payload.decode("utf-8", errors="replace")
    if len(text) > PAYLOAD_PREVIEW:
        text = text[:PAYLOAD_PREVIEW] + "…"
    return DeadLetterView(
        id=letter.id, sci_id=letter.sci_id, operation=letter.operation,
        idempotency_key=letter.idempotency_key, attempts=letter.attempts, reason=letter.reason,
        died_at=letter.died_at, payload=text)


def _count_by_sci(letters: list[DeadLetter]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for letter in letters:
        counts[letter.sci_id] = counts.get(letter.sci_id, 0) + 1
    return counts


# -- the issue panel and links -------------------------------------------------------------
async def panel(runtime: Runtime, issue_key: str) -> Panel:
    """What the issue panel shows: the issue, the SCIs that apply, the links with records."""
    issue = await _issue(runtime, issue_key)
    return Panel(issue=issue, scis=await _panel_scis(runtime, issue),
                 links=[await _with_associated(runtime, await _with_record(runtime, view))
                        for view in await links_for_issue(runtime, issue.key)])


async def scis_for_issue(runtime: Runtime, issue_key: str) -> list[PanelSci]:
    """Display SCIs by project; synchronized SCIs by project and issue type."""
    return await _panel_scis(runtime, await _issue(runtime, issue_key))


async def search_records(runtime: Runtime, sci_id: str, text: str) -> list[RecordPreview]:
    """Records of the SCI's Zoho source by name/title (≥ 2 characters) or by record id."""
    if len(text.strip()) < MIN_SEARCH:
        raise Invalid(f"type at least {MIN_SEARCH} characters to search")
    sci = _running_sci(runtime, sci_id)
    side = await _zoho(runtime, sci)
    try:
        found = await side.search(text, SEARCH_LIMIT)
    except RemoteError as exc:
        raise Refused(_remote_problem(sci, exc)) from None
    return [_preview(sci, record) for record in found]


async def link(runtime: Runtime, sci_id: str, issue_key: str, record_id: str) -> LinkView:
    """Link the issue to the record through the SCI's actor (the SCI's single writer)."""
    sci = _running_sci(runtime, sci_id)
    issue = await _issue(runtime, issue_key)
    if sci.id not in {s.id for s in await _panel_scis(runtime, issue)}:
        raise Refused(f"SCI {sci.id} does not apply to {issue.key} ({issue.project}, "
                      f"{issue.issue_type})")
    if not RECORD_ID.search(record_id):
        raise Invalid(f"{record_id!r} is not a Zoho record id")
    taken = await runtime.store.find_link(sci.id, zoho_record_id=record_id)
    if taken is not None:
        raise Refused(f"Zoho record {record_id} is already linked to {taken.jira_issue_key} "
                      f"by {sci.id}")

    async def work(engine: SciEngine) -> Link:
        return await engine.link_manually(issue.key, record_id)

    made: Link = await _ask(runtime, sci.id, work)
    return await _link_view(runtime, made)


async def unlink(runtime: Runtime, link_id: str) -> Unlinked:
    found = await _link(runtime, link_id)
    if found.origin == "auto":
        raise Refused(f"link {link_id} is auto-managed by SCI {found.sci_id} and read-only")

    async def work(engine: SciEngine) -> None:
        await engine.unlink(link_id)

    await _ask(runtime, found.sci_id, work)
    return Unlinked(link_id=link_id, detail=f"{found.jira_issue_key} is no longer linked to "
                                            f"Zoho record {found.zoho_record_id}")


async def refresh(runtime: Runtime, link_id: str) -> LinkView:
    """Sync the link once now (both sides read fresh) and report how it went."""
    found = await _link(runtime, link_id)

    async def work(engine: SciEngine) -> None:
        await engine.refresh(link_id)

    await _ask(runtime, found.sci_id, work)
    view = await _link_view(runtime, await _link(runtime, link_id))
    return await _with_associated(runtime, view, fresh=True)


async def associated(runtime: Runtime, link_id: str) -> AssociatedRecords:
    """The linked record's related lists: the cached copy while it is younger than
    ``ui.associated_max_age``, else read from Zoho now."""
    found = await _link(runtime, link_id)
    sci = _running_sci(runtime, found.sci_id)
    if not sci.associated_records:
        raise Refused(f"SCI {sci.id} does not show associated records (associated_records "
                      "is off)")
    return await _associated(runtime, sci, found.id, found.zoho_record_id, fresh=False)


async def links_for_issue(runtime: Runtime, issue_key: str) -> list[LinkView]:
    issue_key = issue_key_of(issue_key)
    views: list[LinkView] = []
    for record in await runtime.store.list_scis():
        for found in await runtime.store.list_links(record.id):
            if found.jira_issue_key == issue_key:
                views.append(await _link_view(runtime, found))
    return views


async def links_for_sci(runtime: Runtime, sci_id: str) -> list[LinkView]:
    await _record(runtime, sci_id)
    return [await _link_view(runtime, found)
            for found in await runtime.store.list_links(sci_id)]


async def get_link(runtime: Runtime, link_id: str) -> LinkView:
    return await _link_view(runtime, await _link(runtime, link_id))


def live_connections(runtime: Runtime) -> Connections:
    if runtime.connections is None:
        raise Refused("Jira and Zoho can only be reached by the running daemon")
    return runtime.connections()


def issue_key_of(raw: str) -> str:
    """A Jira issue key as typed or linked (any case), or ``Invalid``."""
    if not ISSUE_KEY.search(raw):
        raise Invalid(f"{raw!r} is not a Jira issue key (like SUP-12)")
    return raw.upper()


async def _issue(runtime: Runtime, issue_key: str) -> IssueView:
    key = issue_key_of(issue_key)
    jira = live_connections(runtime).jira
    if jira is None:
        raise Refused("no Jira connection is configured ([jira])")
    try:
        found = await jira.get_issue(key, fields=("summary", "project", "issuetype"))
    except RemoteError as exc:
        if exc.status == 404:
            raise NotFound(f"no Jira issue {key} (or this account cannot see it)") from None
        raise Refused(f"Jira could not be read: {exc}") from None
    fields = found.fields
    return IssueView(key=found.key, summary=str(fields.get("summary") or ""),
                     project=str((fields.get("project") or {}).get("key", "")),
                     issue_type=str((fields.get("issuetype") or {}).get("name", "")))


async def _panel_scis(runtime: Runtime, issue: IssueView) -> list[PanelSci]:
    applying = [sci for sci in runtime.scis
                if sci.enabled and sci.applies_to(issue.project, issue.issue_type)]
    signed_in = any(runtime.per_user(sci) for sci in applying) and await _signed_in(runtime)
    return [_panel_sci(runtime, sci, signed_in) for sci in applying]


def _panel_sci(runtime: Runtime, sci: SciConfig, signed_in: bool) -> PanelSci:
    crm = sci.zoho.system == "crm"
    title = CONNECTION_TITLES[CRM if crm else PROJECTS]
    login = runtime.per_user(sci) and not signed_in
    return PanelSci(
        id=sci.id, name=sci.name, mode=sci.mode, zoho_system=sci.zoho.system,
        zoho_source=f"{title} · {sci.zoho.module}",
        link_label="Link a Zoho CRM record" if crm else "Link a Zoho Projects task/issue",
        problem=LOGIN_REQUIRED if login else _sci_problem(runtime, sci),
        sign_in_url=SIGN_IN_PATH if login else "")


async def _signed_in(runtime: Runtime) -> bool:
    """Whether the current viewer has signed in to Zoho CRM (Providers mode)."""
    crm = live_connections(runtime).crm
    viewer = VIEWER.get()
    return bool(viewer) and crm is not None and \
        await crm.user_oauth(viewer).stored() is not None


def _sci_problem(runtime: Runtime, sci: SciConfig) -> str:
    """What stands in the way of this SCI's panel; an auth problem is named as such."""
    connection = CRM if sci.zoho.system == "crm" else PROJECTS
    zoho = runtime.config.zoho
    if (zoho.crm if connection == CRM else zoho.projects) is None:
        return (f"{CONNECTION_TITLES[connection]} authentication required: an admin has not "
                "connected it yet (Connections page)")
    problem = (runtime.connection_problems.get(connection, "")
               or runtime.sci_problems.get(sci.id, ""))
    if not problem or problem == "starting":
        return ""
    if _is_auth(problem):
        return f"{CONNECTION_TITLES[connection]} authentication required: {problem}"
    return problem


def _is_auth(problem: str) -> bool:
    lowered = problem.lower()
    return any(word in lowered for word in AUTH_WORDS)


def _remote_problem(sci: SciConfig, exc: RemoteError) -> str:
    title = CONNECTION_TITLES[CRM if sci.zoho.system == "crm" else PROJECTS]
    if exc.needs_attention:
        return f"{title} authentication required: {exc}"
    return f"{title} could not be read: {exc}"


def _running_sci(runtime: Runtime, sci_id: str) -> SciConfig:
    sci = next((s for s in runtime.scis if s.id == sci_id), None)
    if sci is None:
        raise NotFound(f"no SCI {sci_id!r}")
    if not sci.enabled:
        raise Refused(f"SCI {sci_id} is disabled")
    return sci


async def _zoho(runtime: Runtime, sci: SciConfig) -> ZohoSide:
    viewer = await _acting_viewer(runtime, sci)
    try:
        return await zoho_side(sci, live_connections(runtime), viewer)
    except SideError as exc:
        raise Refused(str(exc)) from None
    except RemoteError as exc:
        raise Refused(_remote_problem(sci, exc)) from None


def _preview(sci: SciConfig, record: ZohoSnapshot) -> RecordPreview:
    names = sci.preview_fields or [m.zoho for m in sci.mappings]
    shown = [PreviewField(name=name, value=_shown(record.fields.get(name)))
             for name in names if name in record.fields]
    return RecordPreview(sci_id=sci.id, record_id=record.id, title=record.title or record.id,
                         url=record.url, fields=shown)


def _shown(value: object) -> str:
    """A field value as text: lookups and users by their name, lists joined."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("id") or "")
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value)
    return str(value)


async def _link(runtime: Runtime, link_id: str) -> Link:
    found = await runtime.store.get_link(link_id)
    if found is None:
        raise NotFound(f"no link {link_id}")
    return found


async def _link_view(runtime: Runtime, found: Link) -> LinkView:
    state = link_state.load(await runtime.store.get_synced_state(found.id))
    history = await runtime.store.link_history(found.id, LINK_HISTORY)
    sci = next((s for s in runtime.scis if s.id == found.sci_id), None)
    parked = keys.link_item(found.id) in await runtime.store.parked_items(found.sci_id)
    return LinkView(
        id=found.id, sci_id=found.sci_id, sci_name=sci.name if sci else found.sci_id,
        jira_issue_key=found.jira_issue_key, zoho_record_id=found.zoho_record_id,
        origin=found.origin, read_only=found.origin == "auto", created_at=found.created_at,
        synced_at=state.synced_at, problems=list(state.problems), parked=parked,
        last=history[0] if history else None, history=history)


async def _with_record(runtime: Runtime, view: LinkView) -> LinkView:
    """The link with a live preview of its record (or why it could not be read)."""
    sci = next((s for s in runtime.scis if s.id == view.sci_id), None)
    if sci is None:
        return msgspec.structs.replace(view, record_problem="its SCI is no longer configured")
    try:
        record = await (await _zoho(runtime, sci)).snapshot(view.zoho_record_id)
    except Refused as exc:
        return msgspec.structs.replace(view, record_problem=str(exc))
    except RemoteError as exc:
        return msgspec.structs.replace(view, record_problem=_remote_problem(sci, exc))
    if record is None:
        return msgspec.structs.replace(
            view, record_problem=f"Zoho record {view.zoho_record_id} cannot be read")
    return msgspec.structs.replace(view, record=_preview(sci, record))


async def _with_associated(runtime: Runtime, view: LinkView, *,
                           fresh: bool = False) -> LinkView:
    """The link with its associated records when its SCI shows them."""
    sci = next((s for s in runtime.scis if s.id == view.sci_id), None)
    if sci is None or not sci.associated_records:
        return view
    records = await _associated(runtime, sci, view.id, view.zoho_record_id, fresh=fresh)
    return msgspec.structs.replace(view, associated=records)


async def _associated(runtime: Runtime, sci: SciConfig, link_id: str, record_id: str, *,
                      fresh: bool) -> AssociatedRecords:
    """Read through the per-link cache; a failed read keeps the older copy beside the
    reason."""
    cached = await runtime.store.get_associated(link_id)
    if cached is not None and not fresh and \
            time.time() - cached.fetched_at < runtime.config.ui.associated_max_age:
        return _cached_records(cached)
    try:
        groups = await (await _zoho(runtime, sci)).associated(record_id)
    except (Refused, RemoteError, SideError) as exc:
        problem = _remote_problem(sci, exc) if isinstance(exc, RemoteError) else str(exc)
        older = _cached_records(cached) if cached else AssociatedRecords(link_id=link_id)
        return msgspec.structs.replace(older, problem=problem)
    fetched = CachedAssociated(link_id=link_id, fetched_at=time.time(),
                               payload=msgspec.json.encode(groups))
    await runtime.store.put_associated(fetched)
    return AssociatedRecords(link_id=link_id, fetched_at=fetched.fetched_at, groups=groups)


def _cached_records(cached: CachedAssociated) -> AssociatedRecords:
    return AssociatedRecords(
        link_id=cached.link_id, fetched_at=cached.fetched_at,
        groups=msgspec.json.decode(cached.payload, type=list[AssociatedGroup]))


async def _acting_viewer(runtime: Runtime, sci: SciConfig) -> str:
    """"" (the app's connection), or in Providers mode the viewer, who must be signed in."""
    if not runtime.per_user(sci):
        return ""
    if not await _signed_in(runtime):
        raise Refused(LOGIN_REQUIRED)
    return VIEWER.get()


async def _ask(runtime: Runtime, sci_id: str, work: Callable[[SciEngine], Awaitable[T]]) -> T:
    """Have the SCI's actor run ``work`` on its engine and wait for the answer. In Providers
    mode no actor runs: the work is done at once with the viewer's own Zoho sign-in."""
    sci = _running_sci(runtime, sci_id)
    if runtime.per_user(sci):
        return await _as_viewer(runtime, sci, work)
    info = runtime.supervisor.info(sci_id)
    if info is None:
        raise Refused(f"SCI {sci_id} has no running actor (disabled, or not in this daemon)")
    if info.state == "failed":
        raise Refused(f"SCI {sci_id}'s actor has failed: {info.last_error}")
    reply = Reply()
    if not runtime.supervisor.offer(sci_id, Call(work, reply)):
        raise Refused(f"SCI {sci_id}'s mailbox is full; it is busy, try again shortly")
    try:
        with anyio.fail_after(ASK_TIMEOUT):
            answer: T = await reply.wait()
    except TimeoutError:
        raise Refused(f"SCI {sci_id} did not answer within {ASK_TIMEOUT:.0f} s (busy); "
                      "the operation may still complete, reload to see") from None
    except (SideError, RemoteError, NotReady, StoreError) as exc:
        raise Refused(str(exc) or type(exc).__name__) from None
    return answer


async def _as_viewer(runtime: Runtime, sci: SciConfig,
                     work: Callable[[SciEngine], Awaitable[T]]) -> T:
    viewer = await _acting_viewer(runtime, sci)
    engine = engine_for(sci, runtime.config, runtime.store, lambda: live_connections(runtime),
                        runtime.channels, {}, viewer=viewer)
    try:
        return await work(engine)
    except (SideError, RemoteError, NotReady, StoreError) as exc:
        raise Refused(str(exc) or type(exc).__name__) from None
