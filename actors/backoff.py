"""The one retry/backoff policy used everywhere (actor restarts, HTTP retries, outbox)."""

from __future__ import annotations

import random
from collections.abc import Callable

import msgspec


class Backoff(msgspec.Struct, frozen=True):
    """Exponential backoff with jitter.

    ``delay(n)`` is the pause before retry number ``n`` (0-based): ``base * factor**n``,
    capped at ``cap``, then spread by ``jitter`` (0 = none, 1 = anywhere in [0, delay]) so
    that many callers recovering from the same outage do not retry in lock-step.
    """

    base: float = 0.5
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        raw = min(self.cap, self.base * self.factor ** max(attempt, 0))
        return raw * (1.0 - self.jitter * rand())
