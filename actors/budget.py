"""Rate budgets: a token bucket per remote account, shared fairly by the actors using it.

* ``rate``/``burst``: the account-wide bucket (e.g. Jira burst limit, Zoho credits).
* ``per_actor_rate``: a cap for each actor, so one busy SCI cannot eat the whole account.
* ``max_concurrent``: in-flight requests allowed at once (Zoho's per-org concurrency).
* Fairness: when several actors wait, tokens go round-robin by actor, not first-come.
* ``pause(seconds)``: a server said ``Retry-After``; nobody on this account sends until then.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import msgspec

from actors.context import current_actor


class BudgetStats(msgspec.Struct, frozen=True):
    granted: int
    waiting: int
    paused_for: float
    in_flight: int


class _Bucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class RateBudget:
    def __init__(
        self,
        name: str,
        *,
        rate: float,
        burst: float | None = None,
        per_actor_rate: float | None = None,
        max_concurrent: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.name = name
        self._clock = clock
        self._shared = _Bucket(rate, burst or max(1.0, rate), clock())
        self._per_actor_rate = per_actor_rate
        self._actors: dict[str, _Bucket] = {}
        self._queues: dict[str, deque[int]] = {}
        self._rotation: deque[str] = deque()
        self._tickets = itertools.count()
        self._paused_until = 0.0
        self._changed = anyio.Event()
        self._max_concurrent = max_concurrent or 0
        self._slots = anyio.Semaphore(max_concurrent) if max_concurrent else None
        self._granted = 0

    # -- public API -----------------------------------------------------------------
    async def acquire(self, actor: str | None = None) -> None:
        """Wait for one request's worth of budget on behalf of ``actor``."""
        actor = actor or current_actor.get()
        ticket = self._enqueue(actor)
        try:
            while True:
                wait = self._wait_for(actor, ticket)
                if wait == 0.0:
                    self._grant(actor)
                    return
                changed = self._changed
                with anyio.move_on_after(wait if math.isfinite(wait) else None):
                    await changed.wait()
        finally:
            self._dequeue(actor, ticket)

    @asynccontextmanager
    async def slot(self, actor: str | None = None) -> AsyncIterator[None]:
        """Acquire a token and hold a concurrency slot for the duration of one request."""
        await self.acquire(actor)
        if self._slots is None:
            yield
            return
        async with self._slots:
            yield

    def pause(self, seconds: float) -> None:
        """Stop every actor on this account for ``seconds`` (server-sent Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
        self._notify()

    def statistics(self) -> BudgetStats:
        in_flight = 0
        if self._slots is not None:
            in_flight = self._max_concurrent - self._slots.value
        return BudgetStats(
            granted=self._granted,
            waiting=sum(len(q) for q in self._queues.values()),
            paused_for=max(0.0, self._paused_until - self._clock()),
            in_flight=in_flight,
        )

    # -- internals ------------------------------------------------------------------
    def _enqueue(self, actor: str) -> int:
        ticket = next(self._tickets)
        queue = self._queues.setdefault(actor, deque())
        if not queue and actor not in self._rotation:
            self._rotation.append(actor)
        queue.append(ticket)
        return ticket

    def _dequeue(self, actor: str, ticket: int) -> None:
        queue = self._queues.get(actor)
        if queue and ticket in queue:
            queue.remove(ticket)
        if not queue:
            self._queues.pop(actor, None)
            if actor in self._rotation:
                self._rotation.remove(actor)
        self._notify()

    def _actor_bucket(self, actor: str, now: float) -> _Bucket | None:
        if self._per_actor_rate is None:
            return None
        bucket = self._actors.get(actor)
        if bucket is None:
            bucket = self._actors[actor] = _Bucket(
                self._per_actor_rate, max(1.0, self._per_actor_rate), now
            )
        bucket.refill(now)
        return bucket

    def _next_actor(self, now: float) -> tuple[str, float]:
        """The actor whose turn it is: first in rotation that its own cap lets through."""
        best: tuple[float, int, str] | None = None
        for position, candidate in enumerate(self._rotation):
            bucket = self._actor_bucket(candidate, now)
            own_wait = bucket.wait_time() if bucket else 0.0
            if best is None or (own_wait, position) < best[:2]:
                best = (own_wait, position, candidate)
        assert best is not None
        return best[2], best[0]

    def _wait_for(self, actor: str, ticket: int) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now
        turn, own_wait = self._next_actor(now)
        if turn != actor or self._queues[actor][0] != ticket:
            return math.inf  # someone else goes first; wake on the next change
        self._shared.refill(now)
        return max(own_wait, self._shared.wait_time())

    def _grant(self, actor: str) -> None:
        now = self._clock()
        self._shared.tokens -= 1.0
        bucket = self._actor_bucket(actor, now)
        if bucket is not None:
            bucket.tokens -= 1.0
        self._granted += 1
        # Round-robin: the served actor goes to the back of the line.
        if actor in self._rotation:
            self._rotation.remove(actor)
            self._rotation.append(actor)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
