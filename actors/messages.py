"""Typed messages an SCI actor understands (a closed tagged union)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec


class _Message(msgspec.Struct, frozen=True, tag=True):
    pass


class InboxArrived(_Message, frozen=True):
    """A durable inbox event for this actor's SCI was stored (by webhook or notification)."""

    event_id: int


class PollNow(_Message, frozen=True):
    """Poll the Zoho source now (manual refresh, change notification, or timer).
    ``sent_at`` (epoch s): a poll that began later already covers this request."""

    reason: str = "timer"
    sent_at: float = 0.0
    records: tuple[str, ...] = ()  # records the change notice names: each linked one a pass


class Drain(_Message, frozen=True):
    """Finish the current message, then stop; pending work stays durable in the store."""


class Reply:
    """Where an actor puts the answer to a ``Call``; the asker awaits it."""

    def __init__(self) -> None:
        self._done = anyio.Event()
        self._value: Any = None
        self._error: Exception | None = None

    def answer(self, value: Any) -> None:
        self._value = value
        self._done.set()

    def fail(self, error: Exception) -> None:
        self._error = error
        self._done.set()

    async def wait(self) -> Any:
        """The answer, or the work's own exception. Callers bound the wait themselves
        (``anyio.fail_after``); the work may still run later, the actor cannot tell."""
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class Call(_Message, frozen=True):
    """Run ``work`` with the actor's engine between two passes, so a manual operation
    (link, unlink, refresh) never races the actor's own writes; the outcome goes to
    ``reply``."""

    work: Callable[[Any], Awaitable[Any]]
    reply: Reply


Message = InboxArrived | PollNow | Drain | Call
