"""The actor that drives one Smart Connected Item.

It owns the SCI's durable inbox (events routed to it) and its poll timer. What a change
*means* is decided by the ``SyncEngine``; the actor only sequences work: one message at a
time, inbox items oldest first, each finished in one store transaction together with the
outbox writes it produced, so a crash at any point replays the item instead of losing it.
"""

from __future__ import annotations

import random
import time
from typing import Protocol

import msgspec
import structlog

from actors.mailbox import Mailbox
from actors.messages import Drain, InboxArrived, PollNow
from bridge.sci import SciConfig
from bridge.store import InboxItem, OutboxDraft, Store, SyncEntry

log = structlog.get_logger("bridge.sci")


class EventResult(msgspec.Struct, frozen=True):
    status: str  # "done" | "skipped" | "failed"
    summary: str
    outbox: tuple[OutboxDraft, ...] = ()


class PollResult(msgspec.Struct, frozen=True):
    changes: int
    errors: int
    summary: str


class SyncEngine(Protocol):
    async def handle_event(self, sci: SciConfig, item: InboxItem) -> EventResult:
        """Decide what an inbound event means for this SCI."""

    async def poll(self, sci: SciConfig) -> PollResult | None:
        """Fetch Zoho changes since the SCI's cursor; None when there is no source to poll."""


class SciActor:
    def __init__(self, sci: SciConfig, store: Store, engine: SyncEngine) -> None:
        self.sci = sci
        self._store = store
        self._engine = engine
        # Per-actor jitter so actors sharing a budget do not poll in lock-step.
        self._jitter = random.uniform(0, min(5.0, sci.poll_interval * 0.1))

    async def run(self, mailbox: Mailbox) -> None:
        await self._process_inbox()
        while True:
            match await mailbox.next(idle_after=self.sci.poll_interval + self._jitter):
                case Drain():
                    return
                case InboxArrived():
                    await self._process_inbox()
                case PollNow(reason=reason):
                    await self._poll(reason)
                    await self._process_inbox()  # catches events whose wake-up was dropped

    async def _process_inbox(self) -> None:
        while items := await self._store.inbox_pending(self.sci.id, limit=100):
            for item in items:
                await self._process(item)

    async def _process(self, item: InboxItem) -> None:
        started = time.time()
        result = await self._engine.handle_event(self.sci, item)
        await self._store.inbox_finish(
            item.event_id, self.sci.id, result.status, result.summary, enqueue=result.outbox
        )
        await self._store.record_sync(
            SyncEntry(
                sci_id=self.sci.id, direction="jira_to_zoho", started_at=started,
                finished_at=time.time(), changes=len(result.outbox),
                errors=int(result.status == "failed"), summary=result.summary,
            )
        )
        log.info("inbox.processed", event_id=item.event_id, status=result.status)

    async def _poll(self, reason: str) -> None:
        started = time.time()
        result = await self._engine.poll(self.sci)
        if result is None:
            return
        await self._store.record_sync(
            SyncEntry(
                sci_id=self.sci.id, direction="zoho_to_jira", started_at=started,
                finished_at=time.time(), changes=result.changes, errors=result.errors,
                summary=f"{reason}: {result.summary}",
            )
        )
