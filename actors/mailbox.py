"""A bounded mailbox: the only way into an actor.

A wake-up (``InboxArrived``, ``PollNow``) only points at durable work, so one already
waiting covers another of its kind: a burst of webhooks queues one inbox pass, and a live
change never waits behind hundreds of wake-ups that each come with a turn of queued work.
"""

from __future__ import annotations

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.messages import Drain, InboxArrived, Message, PollNow


class Mailbox:
    def __init__(self, size: int) -> None:
        self._send: MemoryObjectSendStream[Message]
        self._receive: MemoryObjectReceiveStream[Message]
        self._send, self._receive = anyio.create_memory_object_stream[Message](size)
        self._waiting: set[object] = set()  # the wake-ups queued now
        self.stopping = False

    async def put(self, message: Message) -> None:
        """Send, waiting while the mailbox is full (back-pressure)."""
        key = _wake_up(message)
        if key is not None and key in self._waiting:
            return
        await self._send.send(message)
        if key is not None:
            self._waiting.add(key)

    def offer(self, message: Message) -> bool:
        """Send without waiting; False when full (the event is durable anyway)."""
        key = _wake_up(message)
        if key is not None and key in self._waiting:
            return True
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            return False
        if key is not None:
            self._waiting.add(key)
        return True

    def request_stop(self) -> None:
        self.stopping = True
        self.offer(Drain())

    async def next(self, idle_after: float | None = None) -> Message:
        """The next message; ``PollNow("timer")`` when ``idle_after`` seconds pass with none.

        Returns ``Drain`` as soon as a stop was requested, even with messages queued: those
        only point at durable work that the next start picks up again.
        """
        if self.stopping:
            return Drain()
        message: Message = PollNow("timer")
        try:
            # A queued message comes first, also when work is already due (idle_after 0).
            message = self._receive.receive_nowait()
        except anyio.WouldBlock:
            with anyio.move_on_after(idle_after):
                message = await self._receive.receive()
        self._waiting.discard(_wake_up(message))
        return Drain() if self.stopping else message

    def depth(self) -> int:
        return self._receive.statistics().current_buffer_used


def _wake_up(message: Message) -> object | None:
    """What makes a wake-up the same as another (every inbox event is one pass away)."""
    if isinstance(message, InboxArrived):
        return InboxArrived
    return message if isinstance(message, PollNow) else None
