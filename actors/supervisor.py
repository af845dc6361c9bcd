"""One-for-one supervision of actors, with Erlang-style restart intensity.

Each actor runs in its own cancel scope inside the supervisor's task group. A crash is
recorded, the actor is rebuilt from its factory (fresh state from config and store, never
the crashed instance) after an exponential backoff with jitter; more than ``max_restarts``
crashes within ``within`` seconds parks it as FAILED with the reason. Siblings never notice.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio
import msgspec
import structlog
from anyio.abc import TaskGroup, TaskStatus

from actors.backoff import Backoff
from actors.context import current_actor
from actors.mailbox import Mailbox
from actors.messages import Message

log = structlog.get_logger("bridge.supervisor")


class Actor(Protocol):
    async def run(self, mailbox: Mailbox) -> None:
        """Process messages until ``mailbox.next()`` returns ``Drain``; then return."""


ActorFactory = Callable[[], Actor]


class ActorState(enum.Enum):
    RUNNING = "running"
    BACKOFF = "backoff"
    FAILED = "failed"
    STOPPED = "stopped"


class RestartPolicy(msgspec.Struct, frozen=True):
    max_restarts: int = 5
    within: float = 60.0
    backoff: Backoff = Backoff(base=1.0, cap=60.0)


class ActorInfo(msgspec.Struct, frozen=True):
    id: str
    state: str
    restarts: int
    last_error: str
    mailbox_depth: int
    started_at: float  # wall-clock time this actor slot was started (reloads reset it)


@dataclass(eq=False)
class _Slot:
    id: str
    fingerprint: str
    factory: ActorFactory
    mailbox: Mailbox
    state: ActorState = ActorState.RUNNING
    restarts: int = 0
    crashes: deque[float] = field(default_factory=deque)
    last_error: str = ""
    started_at: float = field(default_factory=time.time)
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)


class Supervisor:
    def __init__(
        self,
        policy: RestartPolicy | None = None,
        *,
        mailbox_size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or RestartPolicy()
        self._mailbox_size = mailbox_size
        self._clock = clock
        self._slots: dict[str, _Slot] = {}
        self._group: TaskGroup | None = None
        self._closed = anyio.Event()

    # -- lifecycle ------------------------------------------------------------------
    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Own the actors' task group until ``shutdown`` has stopped them all."""
        async with anyio.create_task_group() as group:
            self._group = group
            task_status.started()
            await self._closed.wait()
            group.cancel_scope.cancel()
        self._group = None

    async def shutdown(self, grace: float) -> None:
        """Stop every actor (newest first) within ``grace`` seconds, then close."""
        with anyio.move_on_after(grace, shield=True):
            for actor_id in reversed(list(self._slots)):
                self._slots[actor_id].mailbox.request_stop()
            for slot in reversed(list(self._slots.values())):
                await slot.done.wait()
        for slot in self._slots.values():
            slot.scope.cancel()
        self._closed.set()

    # -- actors ---------------------------------------------------------------------
    def start(self, actor_id: str, factory: ActorFactory, fingerprint: str = "") -> None:
        if self._group is None:
            raise RuntimeError("supervisor is not running")
        if actor_id in self._slots:
            raise ValueError(f"actor {actor_id!r} already exists")
        slot = _Slot(actor_id, fingerprint, factory, Mailbox(self._mailbox_size))
        self._slots[actor_id] = slot
        self._group.start_soon(self._supervise, slot, name=f"actor:{actor_id}")

    async def stop(self, actor_id: str, grace: float) -> None:
        slot = self._slots.pop(actor_id, None)
        if slot is None:
            return
        slot.mailbox.request_stop()
        with anyio.move_on_after(grace, shield=True):
            await slot.done.wait()
        slot.scope.cancel()
        with anyio.CancelScope(shield=True):
            await slot.done.wait()

    async def reconcile(
        self, wanted: dict[str, tuple[str, ActorFactory]], grace: float
    ) -> list[str]:
        """Make the running set match ``wanted`` {id: (fingerprint, factory)}.

        Actors whose fingerprint is unchanged keep running untouched; changed ones restart,
        and so do FAILED ones (a reload is how an operator retries them once the cause is
        fixed); missing ones stop; new ones start. Returns the ids that were (re)started.
        """
        for actor_id, slot in list(self._slots.items()):
            if (actor_id not in wanted or wanted[actor_id][0] != slot.fingerprint
                    or slot.state is ActorState.FAILED):
                await self.stop(actor_id, grace)
        started = [actor_id for actor_id in wanted if actor_id not in self._slots]
        for actor_id in started:
            fingerprint, factory = wanted[actor_id]
            self.start(actor_id, factory, fingerprint)
        return started

    def offer(self, actor_id: str, message: Message) -> bool:
        slot = self._slots.get(actor_id)
        return slot is not None and slot.state is not ActorState.FAILED and slot.mailbox.offer(
            message
        )

    def snapshot(self) -> list[ActorInfo]:
        return [
            ActorInfo(
                s.id, s.state.value, s.restarts, s.last_error, s.mailbox.depth(), s.started_at
            )
            for s in self._slots.values()
        ]

    def info(self, actor_id: str) -> ActorInfo | None:
        return next((i for i in self.snapshot() if i.id == actor_id), None)

    # -- internals ------------------------------------------------------------------
    async def _supervise(self, slot: _Slot) -> None:
        current_actor.set(slot.id)
        structlog.contextvars.bind_contextvars(sci_id=slot.id)
        try:
            with slot.scope:
                await self._run_until_stopped(slot)
        finally:
            if slot.state is not ActorState.FAILED:
                slot.state = ActorState.STOPPED
            slot.done.set()

    async def _run_until_stopped(self, slot: _Slot) -> None:
        while not slot.mailbox.stopping:
            slot.state = ActorState.RUNNING
            try:
                await slot.factory().run(slot.mailbox)
                return
            except Exception as exc:  # one-for-one: record, never propagate to siblings
                slot.last_error = f"{type(exc).__name__}: {exc}"
                log.error("actor.crashed", error=slot.last_error, exc_info=exc)
            if self._exceeded_intensity(slot):
                slot.state = ActorState.FAILED
                log.error("actor.failed", reason=slot.last_error, restarts=slot.restarts)
                return
            slot.state = ActorState.BACKOFF
            slot.restarts += 1
            await anyio.sleep(self.policy.backoff.delay(len(slot.crashes) - 1))

    def _exceeded_intensity(self, slot: _Slot) -> bool:
        now = self._clock()
        slot.crashes.append(now)
        while slot.crashes and now - slot.crashes[0] > self.policy.within:
            slot.crashes.popleft()
        return len(slot.crashes) > self.policy.max_restarts
