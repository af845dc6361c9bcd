"""Typed messages an SCI actor understands (a closed tagged union)."""

from __future__ import annotations

import msgspec


class _Message(msgspec.Struct, frozen=True, tag=True):
    pass


class InboxArrived(_Message, frozen=True):
    """A durable inbox event for this actor's SCI was stored (by webhook or notification)."""

    event_id: int


class PollNow(_Message, frozen=True):
    """Poll the Zoho source now (manual refresh, change notification, or timer)."""

    reason: str = "timer"


class Drain(_Message, frozen=True):
    """Finish the current message, then stop; pending work stays durable in the store."""


Message = InboxArrived | PollNow | Drain
