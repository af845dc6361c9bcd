"""Client-side budgets for a rolling throttle per URL pattern (Zoho Projects: at most N
requests per window per pattern, then a long lock-out): each pattern gets its own bucket.

A bucket of capacity ``burst`` refilled at ``rate`` lets through at most
``burst + rate * window`` requests in any window; both are chosen to stay at ``headroom``
of the limit, leaving room for retries the transport makes on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from actors.budget import RateBudget


class PatternThrottle:
    def __init__(self, pattern: Callable[[str], str], *, limit: int = 100,
                 window: float = 120.0, headroom: float = 0.9,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``pattern`` maps a request path to the throttle's key (its URL pattern)."""
        usable = max(2, int(limit * headroom))
        self.burst = max(1, usable // 3)
        self.rate = (usable - self.burst) / window
        self._pattern = pattern
        self._clock = clock
        self._budgets: dict[str, RateBudget] = {}

    def budget(self, path: str) -> RateBudget:
        pattern = self._pattern(path)
        budget = self._budgets.get(pattern)
        if budget is None:
            budget = self._budgets[pattern] = RateBudget(
                f"pattern {pattern}", rate=self.rate, burst=self.burst, clock=self._clock)
        return budget

    async def acquire(self, path: str) -> None:
        await self.budget(path).acquire()

    def lock_out(self, path: str, seconds: float) -> None:
        """The service locked this pattern: send nothing on it until the lock-out ends."""
        self.budget(path).pause(seconds)
