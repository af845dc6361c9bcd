"""Admin operations over the running daemon's ``Runtime`` (or a CLI's offline one).

Each operation exists once here; the admin pages, the JSON API and the CLI call it and only
render the answer. Errors a person can act on are ``NotFound`` or ``Refused``.
"""

from __future__ import annotations

import msgspec

from actors.messages import PollNow
from adapters.zoho.datacenters import data_center
from adapters.zoho.oauth import StoredTokens, missing_scopes
from bridge.admin.scopes import CRM_SCOPES, PROJECTS_SCOPES
from bridge.admin.views import (
    ActorView,
    ConnectionStatus,
    DeadLetterView,
    Health,
    ReplayResult,
    SciDetail,
    SciSummary,
    SyncRequest,
)
from bridge.config import Config, ZohoConnection
from bridge.connections import CRM, PROJECTS
from bridge.runtime import Runtime
from bridge.sci import SciConfig
from bridge.store import DeadLetter, SciRecord, StoreError, SyncEntry
from bridge.store.base import ConnectionKind
from bridge.tokens import StoreTokenStore

CONNECTION_TITLES = {"jira": "Jira Cloud", CRM: "Zoho CRM", PROJECTS: "Zoho Projects"}
HISTORY_SCAN = 1000  # newest entries read when filtering an SCI's history
PAYLOAD_PREVIEW = 2000
MAX_ID = 2**63 - 1  # SQLite's largest integer


class AdminError(Exception):
    """A request an operator can correct; the message says what is wrong."""


class NotFound(AdminError):
    pass


class Refused(AdminError):
    pass


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
        problem=problem, site_url=jira.site_url, account=jira.email, delivery=jira.delivery,
        webhook_secret_set=bool(jira.webhook_secret))


def _zoho_status(base: ConnectionStatus, name: str, settings: ZohoConnection,
                 tokens: StoredTokens | None) -> ConnectionStatus:
    center = data_center(settings.data_center)
    default_api = center.api if name == CRM else center.projects
    granted = list(tokens.scopes) if tokens else []
    return msgspec.structs.replace(
        base, data_center=settings.data_center, client_id=settings.client_id,
        api_domain=settings.api_url or (tokens.api_domain if tokens else "") or default_api,
        token_stored=tokens is not None,
        token_expires_at=tokens.expires_at if tokens else 0.0,
        granted_scopes=granted,
        missing_scopes=missing_scopes(base.required_scopes, granted) if granted else [])


# -- SCIs -------------------------------------------------------------------------------
async def scis(runtime: Runtime) -> list[SciSummary]:
    dead = _count_by_sci(await runtime.store.list_dead_letters())
    return [await _summary(runtime, record, dead.get(record.id, 0))
            for record in await runtime.store.list_scis()]


async def sci(runtime: Runtime, sci_id: str) -> SciDetail:
    record = await _record(runtime, sci_id)
    dead = len(await runtime.store.list_dead_letters(sci_id))
    return SciDetail(summary=await _summary(runtime, record, dead),
                     definition=_definition(record))


async def sync_now(runtime: Runtime, sci_id: str) -> SyncRequest:
    """Ask the SCI's actor to poll now; refused when no actor is there to ask."""
    await _record(runtime, sci_id)
    info = runtime.supervisor.info(sci_id)
    if info is None:
        raise Refused(f"SCI {sci_id} has no running actor (disabled, or not in this daemon)")
    if info.state == "failed":
        raise Refused(f"SCI {sci_id}'s actor has failed: {info.last_error}")
    if not runtime.supervisor.offer(sci_id, PollNow("manual")):
        raise Refused(f"SCI {sci_id}'s mailbox is full; it is busy, try again shortly")
    return SyncRequest(sci_id=sci_id, accepted=True, detail="sync requested")


async def history(runtime: Runtime, sci_id: str, *, direction: str = "",
                  errors_only: bool = False, limit: int = 100) -> list[SyncEntry]:
    """The SCI's sync history, newest first, optionally one direction or errors only."""
    await _record(runtime, sci_id)
    entries = await runtime.store.recent_syncs(sci_id, limit=HISTORY_SCAN)
    chosen = [e for e in entries
              if (not direction or e.direction == direction) and (e.errors or not errors_only)]
    return chosen[:limit]


async def _record(runtime: Runtime, sci_id: str) -> SciRecord:
    record = await runtime.store.get_sci(sci_id)
    if record is None:
        raise NotFound(f"no SCI {sci_id!r}")
    return record


def _definition(record: SciRecord) -> SciConfig | None:
    try:
        return msgspec.json.decode(record.definition, type=SciConfig)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


async def _summary(runtime: Runtime, record: SciRecord, dead_letters: int) -> SciSummary:
    declared = any(item.id == record.id for item in runtime.config.sci)
    latest = _latest_per_direction(await runtime.store.recent_syncs(record.id, limit=50))
    common = SciSummary(
        id=record.id, name=record.name, mode="", enabled=record.enabled, status=record.status,
        status_reason=record.status_reason, origin="config" if declared else "store",
        read_only=declared, dead_letters=dead_letters, actor=_actor(runtime, record.id),
        latest=latest)
    definition = _definition(record)
    if definition is None:
        return msgspec.structs.replace(
            common, problem="the stored definition cannot be read by this version")
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
