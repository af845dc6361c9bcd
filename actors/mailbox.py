"""A bounded mailbox: the only way into an actor."""

from __future__ import annotations

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from actors.messages import Drain, Message, PollNow


class Mailbox:
    def __init__(self, size: int) -> None:
        self._send: MemoryObjectSendStream[Message]
        self._receive: MemoryObjectReceiveStream[Message]
        self._send, self._receive = anyio.create_memory_object_stream[Message](size)
        self.stopping = False

    async def put(self, message: Message) -> None:
        """Send, waiting while the mailbox is full (back-pressure)."""
        await self._send.send(message)

    def offer(self, message: Message) -> bool:
        """Send without waiting; False when full (the event is durable anyway)."""
        try:
            self._send.send_nowait(message)
        except anyio.WouldBlock:
            return False
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
        with anyio.move_on_after(idle_after):
            message = await self._receive.receive()
            return Drain() if self.stopping else message
        return PollNow("timer")

    def depth(self) -> int:
        return self._receive.statistics().current_buffer_used
