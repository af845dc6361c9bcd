"""The actor that drives one Smart Connected Item: a sequencer with deadlines.

It decides *when* work happens, never *what* it means: that is the engine's job. Separate
deadlines keep separate kinds of work from starving each other — the next poll, the next
outbox retry — and a burst of wake-ups is coalesced into one pass over the durable inbox
(or one poll, for requests sent before a poll began).
Any failure the engine reports as ``retry`` backs off and comes back at the next deadline.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog

from actors.backoff import Backoff
from actors.mailbox import Mailbox
from actors.messages import Call, Drain, InboxArrived, PollNow, Reply

log = structlog.get_logger("bridge.sci")

IDLE_RETRY = Backoff(base=1.0, cap=60.0)


class Engine(Protocol):
    """What the actor needs from the sync engine it is handed."""

    poll_interval: float

    async def process_inbox(self) -> None:
        """Handle every pending inbox event (raises when a side cannot be reached)."""

    async def poll(self, reason: str) -> int:
        """Poll the sources (``reason``: "timer", or who asked); the changes handled."""

    async def retry_due(self) -> float | None:
        """Run writes whose retry time has come; the next due time (epoch s), if any."""

    async def sync_records(self, record_ids: Sequence[str]) -> int:
        """A pass for each linked record a change notice named; the passes made."""


class SciActor:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        interval = engine.poll_interval
        # Per-actor jitter so actors sharing a budget do not poll in lock-step.
        self._next_poll = clock() + random.uniform(0, min(5.0, interval * 0.1))
        self._next_retry: float | None = clock()
        self._inbox_failures = 0
        self._next_inbox: float | None = None
        self._poll_started = 0.0  # when the latest poll began (epoch s)

    async def run(self, mailbox: Mailbox) -> None:
        await self._inbox()
        while True:
            message = await mailbox.next(idle_after=self._idle_for())
            match message:
                case Drain():
                    return
                case InboxArrived():  # one pass per issue covers every pending event
                    await self._inbox()
                case PollNow(reason=reason, sent_at=sent, records=records) if reason != "timer":
                    if records:  # e.g. a note deleted: no field changed for a poll to see
                        await self._engine.sync_records(records)
                    if 0 < sent < self._poll_started:
                        continue  # a poll that began after this request covered it
                    await self._poll(reason)
                case Call(work=work, reply=reply):
                    await self._call(work, reply)
            await self._run_due()

    async def _call(self, work: Callable[[Any], Awaitable[Any]], reply: Reply) -> None:
        try:
            reply.answer(await work(self._engine))
        except Exception as exc:  # the asker gets the error; the actor carries on
            reply.fail(exc)
        self._next_retry = self._clock()  # the work may have left writes to retry

    def _idle_for(self) -> float:
        deadlines = [d for d in (self._next_poll, self._next_retry, self._next_inbox)
                     if d is not None]
        return max(0.0, min(deadlines) - self._clock()) if deadlines else math.inf

    async def _run_due(self) -> None:
        now = self._clock()
        if self._next_inbox is not None and now >= self._next_inbox:
            await self._inbox()
        if now >= self._next_poll:
            await self._poll("timer")
        if self._next_retry is not None and now >= self._next_retry:
            self._next_retry = await self._engine.retry_due()

    async def _poll(self, reason: str) -> None:
        self._poll_started = self._clock()
        handled = await self._engine.poll(reason)
        self._next_poll = self._clock() + self._engine.poll_interval
        # A retry pass costs store reads: an idle poll with no write pending needs none.
        if handled or self._next_retry is not None:
            self._next_retry = self._clock()

    async def _inbox(self) -> None:
        try:
            await self._engine.process_inbox()
        except Exception as exc:  # events stay pending: come back after a backoff
            delay = IDLE_RETRY.delay(self._inbox_failures)
            self._inbox_failures += 1
            self._next_inbox = self._clock() + delay
            log.warning("inbox.deferred", error=str(exc), retry_in=round(delay, 2))
            return
        self._inbox_failures = 0
        self._next_inbox = None
        self._next_retry = self._clock()  # a pass may have left writes to retry
