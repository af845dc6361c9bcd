"""One SCI's sync engine. The actor calls it one message at a time, so its state (metadata,
poll de-duplication) is only ever touched by that actor's task.

A webhook or a poll hit only marks an item (a link, or an unlinked Zoho record) for a
pass: the pass reads both sides now, asks ``decide``, commits the outcome and the writes
in one unit of work, then executes the writes. A delivery's payload is never applied.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
import structlog

from actors.backoff import Backoff
from adapters.http import Outcome, RemoteError
from adapters.jira.client import NoTransition
from adapters.jira.timefmt import parse_jira_time
from bridge.engine import state as link_state
from bridge.engine.attachments import AttachmentWriter, attachment_policy, zoho_files
from bridge.engine.channels import ChannelRegistry
from bridge.engine.comments import CommentWriter, comment_policy
from bridge.engine.metrics import (
    CONFLICTS,
    INBOX_DEPTH,
    LAST_POLL,
    OUTBOX_DEPTH,
    PARKED_ITEMS,
    POLL_INTERVAL,
    SYNC_ERRORS,
    SYNC_LATENCY,
    track_queue_age,
)
from bridge.engine.state import LinkState
from bridge.sci import SciConfig
from bridge.sides.base import ConnectionsPending, SideError, StaleWrite, ZohoSide
from bridge.sides.jira import JiraSide
from bridge.sides.zoho_crm import CrmSide
from bridge.store import (
    Link,
    OutboxDraft,
    OutboxItem,
    Store,
    StoreUnavailable,
    SyncEntry,
    UnitOfWork,
)
from bridge.store.base import TargetStatus
from bridge.sync import intents as wire
from bridge.sync import keys
from bridge.sync.attachments import decide_attachments, zoho_files_changed
from bridge.sync.comments import CommentPolicy, decide_comments
from bridge.sync.convert import Context, ConversionError, FieldKind
from bridge.sync.decide import (
    FIELD_WRITES,
    Catalog,
    Side,
    agrees,
    decide,
    decide_create,
    settle,
)
from bridge.sync.intents import (
    AddRemoteLink,
    Agree,
    Conflict,
    CopyAttachment,
    CopyCommentToJira,
    CopyCommentToZoho,
    CreateJiraIssue,
    DeleteAttachmentCopy,
    DeleteMirror,
    EditMirror,
    Intent,
    MatchAttachment,
    Problem,
    SetZohoStatus,
    SkipAttachment,
    TransitionJira,
    UpdateJira,
    UpdateZoho,
    WriteLinkNote,
)
from bridge.sync.model import (
    AttachmentMirror,
    Base,
    CommentMirror,
    JiraSnapshot,
    ZohoSnapshot,
)
from bridge.sync.policy import Policy, policy_for
from bridge.sync.status import ZohoStatus

log = structlog.get_logger("bridge.engine")

Sides = tuple[JiraSide, ZohoSide]
T = TypeVar("T")
Closed = tuple[int, TargetStatus, str]  # an inbox event, how it ended, why
SidesFactory = Callable[[], Awaitable[Sides]]
RETRY = Backoff(base=2.0, cap=300.0)
# Seconds of queued writes per turn: the actor's mailbox (live work) comes in between, so a
# backfill of thousands of creates never holds up a webhook or a notification for long.
OUTBOX_SLICE = 0.25
AUTH_RETRY = 60.0
CHANNEL_LIFETIME = 24 * 3600.0  # Zoho allows at most a week
CHANNEL_RENEW_BEFORE = 6 * 3600.0
ZOHO_CURSOR = "zoho_modified"
JIRA_CURSOR = "jira_updated"
ZOHO_NOTES_CURSOR = "zoho_notes"
QUEUE_BATCH = 200  # creates a poll queues per transaction
PANEL_LINK_TITLE = "Zoho bridge panel"


class _Event(msgspec.Struct):
    class _Issue(msgspec.Struct):
        id: str = ""
        key: str = ""

    class _Attachment(msgspec.Struct):
        id: int | str = ""
        created: str = ""

    webhookEvent: str = ""
    issue: _Issue | None = None
    attachment: _Attachment | None = None


_event_decoder = msgspec.json.Decoder(_Event)


class Effects(msgspec.Struct, kw_only=True):
    """What a finished write changes in the store besides closing its outbox entry."""

    new_links: list[Link] = []
    states: dict[str, bytes] = {}
    outbox: list[OutboxDraft] = []
    summary: str = ""
    link_id: str = ""
    mirrors: list[CommentMirror] = []
    unmirrored: list[CommentMirror] = []
    files: list[AttachmentMirror] = []
    unfiled: list[AttachmentMirror] = []


class Notifications(msgspec.Struct, frozen=True):
    """Where Zoho CRM should send change notifications for this daemon."""

    url: str
    channels: ChannelRegistry


class SciEngine:
    def __init__(self, sci: SciConfig, store: Store, sides: SidesFactory, *,
                 poll_jira: bool = False, notifications: Notifications | None = None,
                 problems: dict[str, str] | None = None, panel_url: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.sci = sci
        self.poll_interval = sci.poll_interval
        POLL_INTERVAL.labels(sci.id).set(sci.poll_interval)
        self._store = store
        self._make_sides = sides
        self._poll_jira = poll_jira
        self._clock = clock
        self._jira: JiraSide | None = None
        self._zoho: ZohoSide | None = None
        self.policy = Policy()
        self.catalog = Catalog()
        self.ctx = Context()
        self.comment_policy = CommentPolicy()
        # SCI id → why it cannot sync (shared with readiness; "" when fine).
        self._problems = {} if problems is None else problems
        self._report_problem("starting")
        self._seen: dict[str, bytes] = {}  # item → digest of the content last handled
        self._notifications = notifications
        self._panel_url = panel_url.rstrip("/")  # the issue panel's base, e.g. …/panel
        self._channel_until = 0.0
        self._auth_trouble = False
        self._pass_id = 0

    # -- start-up ---------------------------------------------------------------------------
    async def start(self) -> bool:
        """Read both sides' metadata; False (and ``problem`` set) when a side is unusable."""
        if self._jira is not None:
            return True
        try:
            jira, zoho = await self._make_sides()
            jira_meta = await jira.metadata()
            zoho_meta = await zoho.metadata()
        except ConnectionsPending as exc:
            self._problems[self.sci.id] = str(exc)
            return False
        except (RemoteError, SideError, OSError) as exc:
            self._report_problem(f"cannot start: {exc}")
            return False
        kinds = _resolve_kinds(self.sci, jira_meta.kinds, zoho_meta.kinds)
        self.policy = policy_for(self.sci, kinds)
        self.catalog = Catalog(jira_statuses=jira_meta.statuses,
                               zoho_statuses=zoho_meta.statuses)
        self.ctx = Context(jira_zone=jira_meta.zone, zoho_zone=zoho_meta.zone,
                           users=dict(self.sci.user_map))
        self.comment_policy = comment_policy(self.sci, zoho)
        self._jira, self._zoho = jira, zoho
        for name in (ZOHO_CURSOR, JIRA_CURSOR, ZOHO_NOTES_CURSOR):
            await self._cursor(name)  # a new SCI starts from now
        self._report_problem("")
        log.info("engine.started", fields=len(self.policy.fields), zoho=zoho.system)
        return True

    @property
    def problem(self) -> str:
        return self._problems.get(self.sci.id, "")

    def _report_problem(self, problem: str) -> None:
        if problem != self.problem and problem not in ("starting", ""):
            log.warning("engine.problem", problem=problem)
        self._problems[self.sci.id] = problem

    @property
    def sides(self) -> Sides:
        if self._jira is None or self._zoho is None:
            raise RuntimeError("engine not started")
        return self._jira, self._zoho

    # -- triggers ---------------------------------------------------------------------------
    async def process_inbox(self) -> None:
        """Close every pending event: one pass per affected issue (a burst is one pass)."""
        try:
            await self._drain_inbox()
        finally:
            await self._update_gauges()

    async def _drain_inbox(self) -> None:
        while items := await self._store.inbox_pending(self.sci.id, limit=200):
            by_issue: dict[str, list[int]] = defaultdict(list)
            deleted: set[str] = set()
            files: list[tuple[int, _Event]] = []
            ignored: list[tuple[int, str]] = []
            for item in items:
                event = _event_of(item.payload)
                if isinstance(event, str):
                    ignored.append((item.event_id, event))
                elif event.issue is None:
                    files.append((item.event_id, event))
                else:
                    issue = event.issue.id or event.issue.key
                    by_issue[issue].append(item.event_id)
                    if event.webhookEvent == "jira:issue_deleted":
                        deleted.add(issue)
            await self._skip(ignored)
            await self._pass_issues(by_issue, deleted)
            # After the issue passes: the jira:issue_updated that accompanies an attachment
            # event has usually copied the file already, and then no lookup is needed.
            await self._pass_issues(await self._place_files(files), set())

    async def _skip(self, events: Sequence[tuple[int, str]]) -> None:
        if events:
            await self._store.commit(UnitOfWork(
                sci_id=self.sci.id, events=[(e, "skipped", why) for e, why in events]))

    async def _pass_issues(self, by_issue: Mapping[str, list[int]], deleted: set[str]) -> None:
        for issue, events in by_issue.items():
            try:
                await self._sync_issue(issue, events, "jira" if issue in deleted else "")
            except (NotReady, StoreUnavailable):
                raise  # a side or the store is down: everything waits, nothing is lost
            except Exception as exc:  # this issue's data breaks a pass: set it aside
                link = await self._issue_link(issue)
                await self._set_aside(f"issue {issue}", exc, events, link.id if link else "")

    async def _place_files(self, files: Sequence[tuple[int, _Event]]) -> dict[str, list[int]]:
        """The issues that attachment events concern; the others are closed with why."""
        placed: dict[str, list[int]] = defaultdict(list)
        unplaced: list[tuple[int, str]] = []
        for event_id, event in files:
            issue, why = await self._file_issue(event)
            if issue:
                placed[issue].append(event_id)
            else:
                unplaced.append((event_id, why))
        await self._skip(unplaced)
        return placed

    async def _file_issue(self, event: _Event) -> tuple[str, str]:
        """(issue id, "") for an attachment event this SCI must act on, else ("", why)."""
        assert event.attachment is not None
        file_id = str(event.attachment.id)
        link_id = await self._store.attachment_link(self.sci.id, file_id)
        link = await self._store.get_link(link_id) if link_id else None
        if event.webhookEvent == "attachment_deleted":
            return (link.jira_issue_id, "") if link else (
                "", f"attachment {file_id} was never mirrored by this SCI")
        if link is not None:
            return "", f"attachment {file_id} is already mirrored"
        if not attachment_policy(self.sci).to_zoho:
            return "", "this SCI copies no Jira attachments"
        if not await self.start():
            raise NotReady(self.problem)
        jira, _ = self.sides
        added = event.attachment.created
        try:
            holder = await jira.attachment_holder(
                file_id, parse_jira_time(added).timestamp() if added else self._clock())
        except RemoteError as exc:
            self._remote_trouble("read", exc)
            raise NotReady(str(exc)) from exc
        return (holder, "") if holder else (
            "", f"attachment {file_id} is on no {self.sci.jira_projects[0]} issue of the SCI")

    async def _sync_issue(self, issue: str, events: Sequence[int], deleted: str) -> None:
        if not await self.start():
            # Keep the events pending; the next tick retries once the sides work again.
            raise NotReady(self.problem)
        link = await self._issue_link(issue)
        if link is None:
            await self._store.commit(UnitOfWork(
                sci_id=self.sci.id, events=[(e, "skipped", "issue is not linked")
                                            for e in events]))
            return
        await self.sync_link(link, events=events, deleted=deleted, trigger="jira")

    async def _issue_link(self, issue: str) -> Link | None:
        """The link of an issue named by id (or, in older events, by key)."""
        found = await self._store.find_link(self.sci.id, jira_issue_id=issue)
        return found or next((lk for lk in await self._store.list_links(self.sci.id)
                              if lk.jira_issue_key == issue), None)

    async def poll(self, reason: str = "timer") -> int:
        """One Zoho poll (and a Jira poll when Jira is polled); returns changes handled.
        A manual poll or a backfill is recorded in the history; one woken by a notification
        only when it found something (or a problem)."""
        started = self._clock()
        if reason == "backfill":  # every record gets its pass, even one this engine saw
            self._seen.clear()
        try:
            handled = await self._poll_sides()
        except StoreUnavailable as exc:  # a full disk: wait for space, do not crash
            self._report_problem(f"store: {exc}")
            return 0
        if reason in ("manual", "backfill") or (reason != "timer" and (handled or self.problem)):
            summary = self.problem or f"{handled} change{'s' * (handled != 1)} from Zoho"
            await self._store.record_sync(self._entry("zoho_to_jira", started, handled,
                                                      int(bool(self.problem)),
                                                      f"{reason}: {summary}"))
        return handled

    async def sync_records(self, record_ids: Sequence[str]) -> int:
        """Zoho named these records in a change notice. A note or file added, edited or
        deleted changes no field a poll would see, so with comments or attachments on each
        linked one gets a pass now."""
        if not (self.sci.comments or self.sci.attachments) or not await self.start():
            return 0
        passes = 0
        for record_id in dict.fromkeys(record_ids):
            link = await self._store.find_link(self.sci.id, zoho_record_id=record_id)
            if link is None:
                continue
            try:
                await self.sync_link(link, trigger="zoho")
            except NotReady:
                return passes  # the next poll or notice comes back to it
            passes += 1
        return passes

    async def _poll_sides(self) -> int:
        if not await self.start():
            return 0
        if not self.sci.synchronized:
            return 0  # display items only preview records; nothing to poll for
        self._auth_trouble = False
        await self._keep_channel()
        handled = await self._poll_zoho()
        if self._poll_jira:
            handled += await self._poll_jira_side()
        if not self._auth_trouble:
            self._report_problem("")
        if handled:  # an idle poll leaves the queues as they were: no gauge queries
            await self._update_gauges()
        return handled

    async def _poll_zoho(self) -> int:
        _, zoho = self.sides

        async def handle(record: ZohoSnapshot) -> UnitOfWork | None:
            link = await self._store.find_link(self.sci.id, zoho_record_id=record.id)
            if link is None:
                return await self._consider_create(record)
            await self.sync_link(link, zoho=record, trigger="zoho")
            return None

        async def listed(since: float) -> list[ZohoSnapshot]:
            records = await zoho.changed_since(since)
            LAST_POLL.labels(self.sci.id).set(self._clock())  # the stale-poll alert's input
            return records

        handled, cursor = await self._poll_changes(
            ZOHO_CURSOR, listed, lambda r: (r.id, r.modified, r.fields), handle)
        handled += await self._zoho_deletions(cursor)
        return handled + await self._zoho_comments() + await self._zoho_attachments()

    async def _zoho_comments(self) -> int:
        """Notes change without changing their record: their links get a pass. The notes
        have a cursor of their own, moved only once every link they named was synced."""
        _, zoho = self.sides
        if not self.sci.comments:
            return 0
        cursor = await self._cursor(ZOHO_NOTES_CURSOR)
        asked_at = self._clock()
        try:
            records = await zoho.commented_since(cursor)
        except RemoteError as exc:
            self._remote_trouble("zoho_comments", exc)
            return 0
        handled = 0
        for record_id in sorted(records):
            link = await self._store.find_link(self.sci.id, zoho_record_id=record_id)
            if link is None:
                continue
            try:
                await self.sync_link(link)
            except NotReady:
                return handled  # the cursor stays: the next poll lists these notes again
            handled += 1
        await self._store.commit(UnitOfWork(sci_id=self.sci.id,
                                            cursors={ZOHO_NOTES_CURSOR: repr(asked_at)}))
        return handled

    async def _zoho_attachments(self) -> int:
        """Where attaching a file in Zoho changes neither the record nor a feed the bridge
        can poll (CRM), each linked record's file list is compared with the mirror table."""
        _, zoho = self.sides
        if not self.sci.attachments or zoho.files_modify_record:
            return 0
        handled = 0
        for link in await self._store.list_links(self.sci.id):
            try:
                listed = {f.id for f in await zoho_files(zoho).attachments(link.zoho_record_id)}
            except RemoteError as exc:
                self._remote_trouble("zoho_attachments", exc)
                return handled
            mirrors = await self._store.attachment_mirrors(link.id)
            if zoho_files_changed(mirrors, listed, attachment_policy(self.sci)):
                await self.sync_link(link)
                handled += 1
        return handled

    async def _keep_channel(self) -> None:
        """Keep a CRM notification channel open, renewed long before it expires; polling
        stays on as the backstop, so a failure here is logged, never fatal."""
        _, zoho = self.sides
        now = self._clock()
        if self._notifications is None or not isinstance(zoho, CrmSide) or \
                now < self._channel_until - CHANNEL_RENEW_BEFORE:
            return
        channel_id, token = self._notifications.channels.register(self.sci.id)
        until = now + CHANNEL_LIFETIME
        try:
            await zoho.watch(channel_id, self._notifications.url, token, until)
        except RemoteError as exc:
            self._remote_trouble("watch", exc)
            return
        self._channel_until = until
        log.info("zoho.channel_open", channel_id=channel_id, until=until)

    async def _zoho_deletions(self, since: float) -> int:
        _, zoho = self.sides
        try:
            gone = await zoho.deleted_since(since)
        except RemoteError as exc:
            self._remote_trouble("zoho_deleted", exc)
            return 0
        handled = 0
        for record_id in gone:
            link = await self._store.find_link(self.sci.id, zoho_record_id=record_id)
            if link is not None:
                handled += 1
                await self.sync_link(link, deleted="zoho")
        return handled

    async def _poll_jira_side(self) -> int:
        jira, _ = self.sides

        async def handle(issue: JiraSnapshot) -> None:
            link = await self._store.find_link(self.sci.id, jira_issue_id=issue.id)
            if link is not None:
                await self.sync_link(link, jira=issue, trigger="jira")

        handled, _ = await self._poll_changes(
            JIRA_CURSOR, jira.changed_since, lambda i: (i.id, i.updated, i.fields), handle)
        return handled

    async def _poll_changes(self, name: str, fetch: Callable[[float], Awaitable[list[T]]],
                            identify: Callable[[T], tuple[str, float, dict[str, Any]]],
                            handle: Callable[[T], Awaitable[UnitOfWork | None]]
                            ) -> tuple[int, float]:
        """Fetch what changed since the cursor, hand each new change to ``handle``, move
        the cursor. Polls overlap (whole seconds, whole minutes): a change this engine
        already handled is skipped. What ``handle`` queues (a create) is committed in
        batches, the last one with the cursor: one transaction per batch, not per record,
        so a backfill of thousands holds the actor up for moments. Returns (changes
        handled, the cursor polled from)."""
        cursor = await self._cursor(name)
        try:
            changes = await fetch(cursor)
        except RemoteError as exc:
            self._remote_trouble(f"poll {name}", exc)
            return 0, cursor
        handled, newest = 0, cursor
        queued: list[UnitOfWork] = []
        marked: list[str] = []  # seen in this poll: forgotten again if the store fails
        try:
            for change in changes:
                item, changed_at, fields = identify(change)
                newest = max(newest, changed_at)
                seen = f"{name}:{item}"
                if changed_at < math.floor(cursor) or self._already_seen(seen, fields):
                    continue
                marked.append(seen)
                try:
                    if (work := await handle(change)) is not None:
                        queued.append(work)
                except NotReady:
                    self._seen.pop(seen, None)
                    await self._commit_queued(queued)
                    return handled, cursor  # the cursor stays: the next poll comes back
                except StoreUnavailable:
                    raise
                except Exception as exc:  # its next change brings it back
                    await self._set_aside(f"{name} change {item}", exc)
                handled += 1
                if len(queued) >= QUEUE_BATCH:
                    await self._commit_queued(queued)
            await self._commit_queued(queued, {name: repr(newest)} if newest > cursor else {})
        except StoreUnavailable:
            for seen in marked:  # the cursor stays: the next poll handles them again
                self._seen.pop(seen, None)
            raise  # the store cannot be written: the whole poll waits for it
        return handled, cursor

    async def _commit_queued(self, queued: list[UnitOfWork],
                             cursors: Mapping[str, str] | None = None) -> None:
        """One transaction for the queued works (and the moved cursor); empties ``queued``."""
        if queued or cursors:
            await self._store.commit(UnitOfWork(
                sci_id=self.sci.id, outbox=[d for w in queued for d in w.outbox],
                history=[h for w in queued for h in w.history], cursors=cursors or {}))
        queued.clear()

    def _already_seen(self, item: str, fields: dict[str, Any]) -> bool:
        """Polls overlap (whole-second and whole-minute precision): skip an item whose
        content is exactly what this engine handled last time."""
        digest = hashlib.blake2b(msgspec.json.encode(fields), digest_size=16).digest()
        if self._seen.get(item) == digest:
            return True
        self._seen[item] = digest
        return False

    async def _cursor(self, name: str) -> float:
        stored = await self._store.get_cursor(self.sci.id, name)
        if stored is not None:
            return float(stored)
        # A new SCI starts from now: existing records are linked or backfilled on request.
        now = self._clock()
        await self._store.put_cursor(self.sci.id, name, repr(now))
        return now

    # -- one pass for one link --------------------------------------------------------------
    async def sync_link(self, link: Link, *, events: Sequence[int] = (),
                        jira: JiraSnapshot | None = None, zoho: ZohoSnapshot | None = None,
                        deleted: str = "", trigger: str = "") -> None:
        """One pass for one link; raises ``NotReady`` when a side cannot be read.
        ``deleted``: the side ("jira"/"zoho") that reported the item deleted; ``trigger``:
        the side whose change notice started the pass (its echo needs no pass)."""
        item = keys.link_item(link.id)
        closing: list[Closed] = [(e, "done", "synced") for e in events]
        if item in await self._store.parked_items(self.sci.id):
            await self._store.commit(UnitOfWork(
                sci_id=self.sci.id,
                events=[(e, "skipped", "parked behind a dead letter") for e in events]))
            return
        if not await self._execute_item(item, field_writes=False):  # creates, notes first
            await self._store.commit(UnitOfWork(sci_id=self.sci.id, events=closing))
            return
        jira_side, zoho_side = self.sides
        started = self._clock()
        try:
            if trigger == "jira":
                jira = jira or await jira_side.snapshot(link.jira_issue_id)
            noticed = jira if trigger == "jira" else zoho if trigger == "zoho" else None
            if noticed is not None and not deleted and await self._echo(link, noticed):
                await self._store.commit(UnitOfWork(sci_id=self.sci.id, events=[
                    (e, "done", "no change since the last sync") for e in events]))
                return
            jira = jira or await jira_side.snapshot(link.jira_issue_id)
            zoho = zoho or await zoho_side.snapshot(link.zoho_record_id)
            if jira is None or zoho is None:
                await self._gone(link, closing, jira, deleted)
                return
            comments = await self._decide_comments(link)
            comments += await self._decide_attachments(link)
        except RemoteError as exc:
            self._remote_trouble("read", exc)
            raise NotReady(str(exc)) from exc
        self._learn_status(zoho)
        current = link_state.load(await self._store.get_synced_state(link.id))
        queued = [(entry, intent) for entry in await self._store.outbox_items(self.sci.id, item)
                  for intent in [_decoded(entry)] if isinstance(intent, FIELD_WRITES)]
        current.base = settle(current.base, [i for _, i in queued], self.policy, jira, zoho,
                              self.ctx)
        decided = decide(self.policy, current.base, jira, zoho, self.ctx, self.catalog)
        decided += comments
        await self._commit_pass(link, current, decided, closing, started,
                                superseded=[entry.id for entry, _ in queued])
        await self._execute_item(item)

    async def _decide_comments(self, link: Link) -> list[Intent]:
        """Comments are listed on every pass: a webhook only says that something changed."""
        if not self.sci.comments:
            return []
        jira, zoho = self.sides
        return decide_comments(await self._store.comment_mirrors(link.id),
                               await jira.comments(link.jira_issue_key),
                               await zoho.comments(link.zoho_record_id), self.comment_policy)

    async def _decide_attachments(self, link: Link) -> list[Intent]:
        """Attachments are listed on every pass, like comments."""
        if not self.sci.attachments:
            return []
        jira, zoho = self.sides
        return decide_attachments(await self._store.attachment_mirrors(link.id),
                                  await jira.attachments(link.jira_issue_key),
                                  await zoho_files(zoho).attachments(link.zoho_record_id),
                                  attachment_policy(self.sci))

    async def _echo(self, link: Link, noticed: JiraSnapshot | ZohoSnapshot) -> bool:
        """The side that sent a change notice holds exactly what both last agreed on: it is
        the echo of our own write (the other side's changes have triggers of their own).
        Comments are listed by a pass, and queued writes need settling, so those always
        get one."""
        if self.sci.comments or self.sci.attachments or await self._store.outbox_items(self.sci.id,
                                                               keys.link_item(link.id)):
            return False
        side: Side = "jira" if isinstance(noticed, JiraSnapshot) else "zoho"
        state = link_state.load(await self._store.get_synced_state(link.id))
        return agrees(self.policy, state.base, side, noticed, self.ctx)

    def _learn_status(self, zoho: ZohoSnapshot) -> None:
        """Zoho Projects lists statuses without saying which close an item; records do."""
        if zoho.status_closed is None:
            return
        known = self.catalog.zoho_statuses
        if any(s.name == zoho.status and s.closed == zoho.status_closed for s in known):
            return
        learned = ZohoStatus(zoho.status, zoho.status_closed)
        statuses = tuple(learned if s.name == zoho.status else s for s in known)
        if learned not in statuses:
            statuses += (learned,)
        self.catalog = msgspec.structs.replace(self.catalog, zoho_statuses=statuses)

    async def _commit_pass(self, link: Link, current: LinkState, decided: list[Intent],
                           closing: list[Closed], started: float,
                           superseded: list[int]) -> None:
        base = _agree(current.base or Base(), decided)
        problems = [i.reason for i in decided if isinstance(i, Problem)]
        conflicts = [i for i in decided if isinstance(i, Conflict)]
        writes = [i for i in decided if isinstance(i, wire.WRITES)]
        if conflicts:
            CONFLICTS.labels(self.sci.id).inc(len(conflicts))
        for _ in problems:
            SYNC_ERRORS.labels(self.sci.id, "conversion").inc()
        self._pass_id += 1
        item = keys.link_item(link.id)
        drafts = [self._draft(self._write_key(link, item, started, index, intent), item, intent)
                  for index, intent in enumerate(writes)]
        fresh = LinkState(base=base, problems=problems, synced_at=self._clock())
        history = []
        if decided:
            history.append(self._entry("jira_to_zoho" if _towards_zoho(writes) else
                                       "zoho_to_jira", started, len(writes),
                                       len(problems), _summary(link, decided), link.id))
        await self._store.commit(UnitOfWork(
            sci_id=self.sci.id, events=closing, outbox=drafts, superseded=superseded,
            states={link.id: link_state.dump(fresh)}, history=history))

    def _write_key(self, link: Link, item: str, started: float, index: int,
                   intent: Intent) -> str:
        """Copies and deletions of comments happen once per comment; the rest once per pass."""
        match intent:
            case CopyCommentToZoho(origin_id=origin_id) | CopyCommentToJira(origin_id=origin_id):
                origin = "jira" if isinstance(intent, CopyCommentToZoho) else "zoho"
                return keys.comment_copy_key(self.sci.id, link.id, origin, origin_id)
            case DeleteMirror(origin=origin, origin_id=origin_id):
                return keys.comment_delete_key(self.sci.id, link.id, origin, origin_id)
            case DeleteAttachmentCopy(origin=origin, origin_id=origin_id):
                return keys.attachment_delete_key(self.sci.id, link.id, origin, origin_id)
            case CopyAttachment(origin=origin, origin_id=origin_id) | MatchAttachment(
                    origin=origin, origin_id=origin_id) | SkipAttachment(
                    origin=origin, origin_id=origin_id):
                return keys.attachment_key(self.sci.id, link.id, origin, origin_id)
        return keys.write_key(self.sci.id, item, _pass_key(started, self._pass_id), index)

    async def _gone(self, link: Link, closing: list[Closed],
                    jira: JiraSnapshot | None, deleted: str) -> None:
        """A side cannot be read. Only a deletion the system itself reports (Jira's
        ``issue_deleted`` event, Zoho CRM's deleted-records list) unlinks — never deleting the
        other side, which gets a comment; anything else (a lost permission looks the same)
        is reported on the link and the link is kept."""
        missing = "jira" if jira is None else "zoho"
        what = "Jira issue" if missing == "jira" else "Zoho record"
        if deleted != missing:
            problem = (f"cannot read the {what} of {link.jira_issue_key} ↔ "
                       f"{link.zoho_record_id}: deleted, or the account lost access")
            current = link_state.load(await self._store.get_synced_state(link.id))
            history = [] if problem in current.problems else [
                self._entry("zoho_to_jira", self._clock(), 0, 1, problem, link.id)]
            current.problems = [problem]
            await self._store.commit(UnitOfWork(
                sci_id=self.sci.id, events=closing, history=history,
                states={link.id: link_state.dump(current)}))
            return
        await self._store.delete_link(link.id)
        summary = (f"{what} of link {link.jira_issue_key} ↔ {link.zoho_record_id} was deleted;"
                   " unlinked")
        await self._store.commit(UnitOfWork(
            sci_id=self.sci.id, events=closing,
            history=[self._entry("zoho_to_jira", self._clock(), 1, 0, summary, link.id)]))
        log.info("link.removed", link_id=link.id, reason=summary)
        await self._tell_survivor(link, missing)

    async def _tell_survivor(self, link: Link, missing: str) -> None:
        jira, zoho = self.sides
        try:
            if missing == "zoho":
                await jira.comment(link.jira_issue_key, (
                    f"The linked Zoho record {link.zoho_record_id} was deleted in Zoho; this "
                    f"issue is no longer synchronized by \"{self.sci.name}\"."))
            else:
                text = (f"The linked Jira issue {link.jira_issue_key} was deleted; this record "
                        f"is no longer synchronized by \"{self.sci.name}\".")
                await zoho.link_note(link.zoho_record_id, text, marker=text)
        except RemoteError as exc:
            self._remote_trouble("unlink_note", exc)

    # -- auto-create ------------------------------------------------------------------------
    async def _consider_create(self, record: ZohoSnapshot) -> UnitOfWork | None:
        """The record's create to queue (the outbox runs it, a turn at a time), if any."""
        item = keys.record_item(record.id)
        if item in await self._store.parked_items(self.sci.id) or \
                await self._store.outbox_items(self.sci.id, item):
            return None
        decided = decide_create(self.policy, record, self.ctx, self.catalog)
        creates = [i for i in decided if isinstance(i, CreateJiraIssue)]
        if not creates:
            return None
        draft = self._draft(keys.create_key(self.sci.id, record.id), item, creates[0])
        problems = [i.reason for i in decided if isinstance(i, Problem)]
        return UnitOfWork(sci_id=self.sci.id, outbox=[draft],
                          history=[self._entry("zoho_to_jira", self._clock(), 1, len(problems),
                                               "; ".join([creates[0].reason, *problems]))])

    # -- manual operations (issue panel, API, CLI) -------------------------------------------
    async def link_manually(self, issue_key: str, record_id: str) -> Link:
        """Link an issue to a record, write the link note and remote link, sync once."""
        if not await self.start():
            raise SideError(self.problem)
        jira_side, zoho_side = self.sides
        issue = await jira_side.snapshot(issue_key)
        record = await zoho_side.snapshot(record_id)
        if issue is None or record is None:
            raise SideError(f"{'Jira issue ' + issue_key if issue is None else 'Zoho record '}"
                            f"{'' if issue is None else record_id} does not exist")
        link = Link(id=uuid.uuid4().hex, sci_id=self.sci.id, jira_issue_id=issue.id,
                    jira_issue_key=issue.key, zoho_record_id=record.id, origin="manual",
                    created_at=self._clock())
        await self._store.commit(UnitOfWork(
            sci_id=self.sci.id, new_links=[link], outbox=self._link_followups(link, record),
            history=[self._entry("zoho_to_jira", self._clock(), 1, 0,
                                 f"linked {issue.key} ↔ {record.id} (manual)", link.id)]))
        await self.sync_link(link, jira=issue, zoho=record)
        return link

    async def unlink(self, link_id: str) -> None:
        link = await self._store.get_link(link_id)
        if link is None:
            raise SideError(f"no link {link_id}")
        if link.origin == "auto":
            raise SideError("auto-managed links cannot be unlinked by hand")
        await self._store.delete_link(link_id)

    async def refresh(self, link_id: str) -> None:
        link = await self._store.get_link(link_id)
        if link is None:
            raise SideError(f"no link {link_id}")
        if not await self.start():
            raise SideError(self.problem)
        await self.sync_link(link)

    def _link_followups(self, link: Link, record: ZohoSnapshot) -> list[OutboxDraft]:
        item = keys.link_item(link.id)
        drafts = [self._draft(keys.remote_link_key(self.sci.id, link.id), item, AddRemoteLink(
            key=link.jira_issue_key, record_id=record.id, url=record.url,
            title=f"Zoho: {record.title or record.id}", reason="link created"))]
        if self._panel_url:  # one panel link per issue (one global id), whichever SCI links
            panel = AddRemoteLink(key=link.jira_issue_key, record_id="panel",
                                  url=f"{self._panel_url}/{link.jira_issue_key}",
                                  title=PANEL_LINK_TITLE, reason="link created")
            drafts.append(self._draft(keys.panel_link_key(self.sci.id, link.id), item, panel))
        if self.sci.link_note:
            drafts.append(self._draft(keys.link_note_key(self.sci.id, link.id), item,
                                      WriteLinkNote(record_id=record.id, link_id=link.id,
                                                    jira_key=link.jira_issue_key,
                                                    jira_id=link.jira_issue_id,
                                                    origin=link.origin, reason="link created")))
        return drafts

    # -- the outbox -------------------------------------------------------------------------
    async def retry_due(self) -> float | None:
        """Run the writes whose time has come, for at most ``OUTBOX_SLICE`` seconds; the
        next due time, if any. A field write is not replayed: its link gets a fresh pass,
        which settles it."""
        if not await self.start():
            return self._clock() + AUTH_RETRY
        due = await self._store.outbox_due(self.sci.id, self._clock(), limit=200)
        blocked: set[str] = set()
        turn_ends = self._clock() + OUTBOX_SLICE
        for entry in due:
            if entry.item in blocked:
                continue
            if isinstance(_decoded(entry), FIELD_WRITES):
                blocked.add(entry.item)
                await self._resync(entry)
            elif not await self._run(entry):
                blocked.add(entry.item)
            if self._clock() >= turn_ends:
                await self._update_gauges()
                return self._clock()  # the rest may still be due: after the mailbox's turn
        await self._update_gauges()
        pending = await self._store.outbox_due(self.sci.id, float("inf"), limit=1)
        return pending[0].next_attempt_at if pending else None

    async def _resync(self, entry: OutboxItem) -> None:
        link = await self._store.get_link(entry.item.removeprefix("link:"))
        if link is None:  # unlinked meanwhile: nothing left to write
            await self._store.commit(UnitOfWork(sci_id=self.sci.id, superseded=[entry.id]))
            return
        try:
            await self.sync_link(link)
        except NotReady as exc:
            await self._store.outbox_retry(entry.id, self._clock()
                                           + RETRY.delay(entry.attempts), str(exc))

    async def _execute_item(self, item: str, *, field_writes: bool = True) -> bool:
        """Run the item's queued writes in order; False when one must wait (retry/park)."""
        for entry in await self._store.outbox_items(self.sci.id, item):
            if not field_writes and isinstance(_decoded(entry), FIELD_WRITES):
                continue
            if entry.next_attempt_at > self._clock() or not await self._run(entry):
                return False
        return True

    async def _run(self, entry: OutboxItem) -> bool:
        intent = _decoded(entry)
        if intent is None:
            await self._dead(entry, "undecodable write", "internal")
            return False
        started = self._clock()
        try:
            effects = await self._apply(intent, entry)
        except NoTransition as exc:
            effects = Effects(summary=f"status not changed: {exc.message}",
                              link_id=entry.item.removeprefix("link:"))
            SYNC_ERRORS.labels(self.sci.id, "workflow").inc()
        except RemoteError as exc:
            return await self._failed(entry, exc)
        except StaleWrite as exc:  # a fresh pass decides again (see retry_due)
            await self._store.outbox_retry(entry.id, self._clock(), str(exc))
            return False
        except (SideError, ConversionError) as exc:
            await self._dead(entry, str(exc), "data")
            return False
        except Exception as exc:  # a bug must park the item, never crash the SCI
            log.exception("engine.write_crashed", key=entry.idempotency_key)
            await self._dead(entry, f"internal error: {type(exc).__name__}: {exc}", "internal")
            return False
        history = []
        if effects.summary:
            history.append(self._entry(_direction(intent), started, 1, 0, effects.summary,
                                       effects.link_id))
        await self._store.commit(UnitOfWork(
            sci_id=self.sci.id, done_outbox=entry.id, new_links=effects.new_links,
            states=effects.states, outbox=effects.outbox, history=history,
            mirrors=effects.mirrors, unmirrored=effects.unmirrored, files=effects.files,
            unfiled=effects.unfiled))
        SYNC_LATENCY.labels(_direction(intent)).observe(max(0.0, self._clock()
                                                            - entry.created_at))
        for link in effects.new_links:  # its link note and remote link go out now
            await self._execute_item(keys.link_item(link.id))
        return True

    async def _failed(self, entry: OutboxItem, exc: RemoteError) -> bool:
        if exc.outcome in (Outcome.RATE_LIMITED, Outcome.TRANSIENT, Outcome.AUTH):
            delay = AUTH_RETRY if exc.outcome is Outcome.AUTH else RETRY.delay(entry.attempts)
            await self._store.outbox_retry(entry.id, self._clock() + delay, str(exc))
            self._remote_trouble("write", exc)
            return False
        await self._dead(entry, str(exc), "remote")
        return False

    async def _dead(self, entry: OutboxItem, reason: str, kind: str) -> None:
        SYNC_ERRORS.labels(self.sci.id, kind).inc()
        await self._store.outbox_dead(entry.id, reason)
        await self._store.record_sync(self._entry(
            "jira_to_zoho", self._clock(), 0, 1, f"write parked as dead letter: {reason}",
            entry.item.removeprefix("link:") if entry.item.startswith("link:") else ""))
        log.warning("engine.dead_letter", key=entry.idempotency_key, reason=reason)

    async def _set_aside(self, what: str, exc: Exception, events: Sequence[int] = (),
                         link_id: str = "") -> None:
        """An item whose pass failed unexpectedly: close its events as failed with the
        reason and record it, so the SCI goes on with everything else."""
        reason = f"{what} set aside: {type(exc).__name__}: {exc}"
        log.error("engine.item_failed", item=what, exc_info=exc)
        SYNC_ERRORS.labels(self.sci.id, "internal").inc()
        await self._store.commit(UnitOfWork(
            sci_id=self.sci.id, events=[(e, "failed", reason) for e in events],
            history=[self._entry("jira_to_zoho", self._clock(), 0, 1, reason, link_id)]))

    def _remote_trouble(self, during: str, exc: RemoteError) -> None:
        SYNC_ERRORS.labels(self.sci.id, exc.outcome.value).inc()
        log.warning("engine.remote_error", during=during, outcome=exc.outcome.value,
                    error=str(exc))
        if exc.needs_attention:  # readiness says so until a poll goes through again
            self._auth_trouble = True
            self._report_problem(f"{exc.system} needs attention: {exc.message}")

    async def _update_gauges(self) -> None:
        sci, now = self.sci.id, self._clock()
        OUTBOX_DEPTH.labels(sci).set(await self._store.outbox_depth(sci))
        INBOX_DEPTH.labels(sci).set(await self._store.inbox_depth(sci))
        PARKED_ITEMS.labels(sci).set(len(await self._store.parked_items(sci)))
        for queue, age in (("inbox", await self._store.inbox_oldest_age(sci, now)),
                           ("outbox", await self._store.outbox_oldest_age(sci, now))):
            track_queue_age(sci, queue, now - age if age > 0 else None)

    # -- carrying out one intent ---------------------------------------------------------------
    async def _apply(self, intent: Intent, entry: OutboxItem) -> Effects:
        jira, zoho = self.sides
        link_id = entry.item.removeprefix("link:")
        match intent:
            case UpdateJira(key=key, fields=fields, agreed=agreed):
                await jira.update(key, fields)
                return await self._agreed(link_id, agreed, intent.reason)
            case UpdateZoho(record_id=record_id, fields=fields, agreed=agreed):
                await zoho.update(record_id, fields, intent.unmodified_since)
                return await self._agreed(link_id, agreed, intent.reason)
            case TransitionJira(key=key, status=status):
                await jira.move_to(key, status, self.catalog.jira_statuses)
                return await self._agreed(link_id, {}, intent.reason, jira_status=status,
                                          zoho_status=intent.agreed_zoho_status)
            case SetZohoStatus(record_id=record_id, status=status):
                await zoho.set_status(record_id, status)
                return await self._agreed(link_id, {}, intent.reason,
                                          jira_status=intent.agreed_jira_status,
                                          zoho_status=status)
            case CreateJiraIssue():
                return await self._create(intent, entry)
            case WriteLinkNote():
                await zoho.link_note(intent.record_id, self._note_text(intent),
                                     marker=f"Jira issue {intent.jira_key} ")
                return Effects(summary=f"link note written on {intent.record_id}",
                               link_id=intent.link_id)
            case AddRemoteLink(key=key, record_id=record_id, url=url, title=title):
                await jira.remote_link(key, record_id, url, title)
                return Effects(summary=f"remote link on {key}", link_id=link_id)
            case CopyCommentToZoho() | CopyCommentToJira() | EditMirror() | DeleteMirror():
                link = await self._store.get_link(link_id)
                if link is None:  # unlinked meanwhile: nothing left to mirror
                    return Effects()
                done = await CommentWriter(self._store, jira, zoho).apply(intent, entry, link)
                return Effects(mirrors=done.mirrors, unmirrored=done.unmirrored,
                               summary=done.summary, link_id=link_id)
            case CopyAttachment() | MatchAttachment() | SkipAttachment() | (
                    DeleteAttachmentCopy()):
                link = await self._store.get_link(link_id)
                if link is None:
                    return Effects()
                filed = await AttachmentWriter(self._store, jira, zoho,
                                               self.sci.attachment_max_bytes
                                               ).apply(intent, entry, link)
                return Effects(files=filed.files, unfiled=filed.unfiled, summary=filed.summary,
                               link_id=link_id)
            case Agree() | Conflict() | Problem():
                return Effects()
        raise SideError(f"unknown write {type(intent).__name__}")

    async def _agreed(self, link_id: str, values: dict[str, Any], reason: str, *,
                      jira_status: str | None = None,
                      zoho_status: str | None = None) -> Effects:
        current = link_state.load(await self._store.get_synced_state(link_id))
        base = (current.base or Base()).with_fields(values)
        base = msgspec.structs.replace(
            base, jira_status=base.jira_status if jira_status is None else jira_status,
            zoho_status=base.zoho_status if zoho_status is None else zoho_status)
        current.base = base
        return Effects(states={link_id: link_state.dump(current)}, summary=reason,
                       link_id=link_id)

    async def _create(self, intent: CreateJiraIssue, entry: OutboxItem) -> Effects:
        jira, zoho = self.sides
        created = None
        if entry.attempts > 0:  # an earlier attempt may have created it before failing
            created = await jira.find_created(self.sci.id, intent.record_id, entry.created_at)
        if created is None:
            await self._store.outbox_started(entry.id)
            created = await jira.create(self.sci.id, intent.record_id, intent.fields)
        notes = [f"created {created.key} for Zoho record {intent.record_id}"]
        if intent.status:
            try:
                await jira.move_to(created.key, intent.status, self.catalog.jira_statuses)
            except NoTransition as exc:
                notes.append(f"status not set: {exc.message}")
        issue = await jira.snapshot(created.id)
        record = await zoho.snapshot(intent.record_id)
        link = Link(id=uuid.uuid4().hex, sci_id=self.sci.id, jira_issue_id=created.id,
                    jira_issue_key=created.key, zoho_record_id=intent.record_id, origin="auto",
                    created_at=self._clock())
        base = Base(fields=intent.agreed, jira_status=issue.status.name if issue else "",
                    zoho_status=intent.zoho_status)
        followups = self._link_followups(link, record) if record is not None else []
        return Effects(new_links=[link],
                       states={link.id: link_state.dump(LinkState(base=base,
                                                                  synced_at=self._clock()))},
                       outbox=followups, summary="; ".join(notes), link_id=link.id)

    def _note_text(self, intent: WriteLinkNote) -> str:
        jira, _ = self.sides
        how = "automatic" if intent.origin == "auto" else "manual"
        return (f"Linked to Jira issue {intent.jira_key} ({jira.browse_url(intent.jira_key)}, "
                f"issue id {intent.jira_id}) by Smart Connected Item \"{self.sci.name}\" "
                f"({how} link).")

    # -- helpers ----------------------------------------------------------------------------
    def _draft(self, key: str, item: str, intent: Intent) -> OutboxDraft:
        return OutboxDraft(sci_id=self.sci.id, idempotency_key=key,
                           operation=type(intent).__name__, payload=wire.encode(intent),
                           item=item)

    def _entry(self, direction: Any, started: float, changes: int, errors: int, summary: str,
               link_id: str = "") -> SyncEntry:
        return SyncEntry(sci_id=self.sci.id, direction=direction, started_at=started,
                         finished_at=self._clock(), changes=changes, errors=errors,
                         summary=summary, link_id=link_id)


class NotReady(Exception):
    """A side could not be read; the events stay pending and the actor retries later."""


def _decoded(entry: OutboxItem) -> Intent | None:
    try:
        return wire.decode(entry.payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _event_of(payload: bytes) -> _Event | str:
    """The event if it names an issue, else why it is skipped."""
    try:
        event = _event_decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return f"undecodable event: {exc}"
    if event.issue is not None and (event.issue.id or event.issue.key):
        return event
    if event.issue is None and event.attachment is not None and event.attachment.id:
        return event
    return f"{event.webhookEvent or 'event'} names no issue"


def _agree(base: Base, decided: Sequence[Intent]) -> Base:
    for intent in decided:
        if isinstance(intent, Agree):
            base = base.with_fields(intent.fields)
            base = msgspec.structs.replace(
                base,
                jira_status=base.jira_status if intent.jira_status is None
                else intent.jira_status,
                zoho_status=base.zoho_status if intent.zoho_status is None
                else intent.zoho_status)
    return base


def _resolve_kinds(sci: SciConfig, jira: dict[str, FieldKind],
                   zoho: dict[str, FieldKind]) -> dict[str, FieldKind]:
    """Rich text on either side makes the mapping rich text; else Zoho's type, else Jira's."""
    kinds: dict[str, FieldKind] = {}
    for mapping in sci.mappings:
        pair = (jira.get(mapping.jira), zoho.get(mapping.zoho))
        if "rich_text" in pair:
            kinds[mapping.jira] = "rich_text"
        else:
            kinds[mapping.jira] = pair[1] or pair[0] or "text"
    return kinds


def _towards_zoho(writes: Sequence[Intent]) -> bool:
    return any(isinstance(w, UpdateZoho | SetZohoStatus) for w in writes)


def _direction(intent: Intent) -> str:
    towards_zoho = isinstance(intent, UpdateZoho | SetZohoStatus | WriteLinkNote
                              | CopyCommentToZoho) or (
        isinstance(intent, EditMirror | DeleteMirror | CopyAttachment | MatchAttachment
                   | SkipAttachment | DeleteAttachmentCopy) and intent.origin == "jira")
    return "jira_to_zoho" if towards_zoho else "zoho_to_jira"


def _pass_key(started: float, pass_id: int) -> int:
    return int(started * 1000) * 1000 + pass_id % 1000


def _summary(link: Link, decided: Sequence[Intent]) -> str:
    return f"{link.jira_issue_key} ↔ {link.zoho_record_id}: " + "; ".join(
        i.reason for i in decided if i.reason)
