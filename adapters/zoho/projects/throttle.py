"""Client-side budgets for Zoho Projects' rolling throttle: at most N requests per window
per URL pattern (then a long lock-out), so each pattern gets its own token bucket.

A bucket of capacity ``burst`` refilled at ``rate`` lets through at most
``burst + rate * window`` requests in any window; both are chosen to stay at ``headroom``
of the limit, leaving room for retries the transport makes on its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from actors.budget import RateBudget

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def url_pattern(path: str) -> str:
    """``/portal/1/projects/2/tasks`` -> ``/portal/{}/projects/{}/tasks``."""
    return _ID_SEGMENT.sub("/{}", path.split("?", 1)[0])


class PatternThrottle:
    def __init__(self, *, limit: int = 100, window: float = 120.0, headroom: float = 0.9,
                 clock: Callable[[], float] = time.monotonic) -> None:
        usable = max(2, int(limit * headroom))
        self.burst = max(1, usable // 3)
        self.rate = (usable - self.burst) / window
        self._clock = clock
        self._budgets: dict[str, RateBudget] = {}

    def budget(self, path: str) -> RateBudget:
        pattern = url_pattern(path)
        budget = self._budgets.get(pattern)
        if budget is None:
            budget = self._budgets[pattern] = RateBudget(
                f"zoho-projects {pattern}", rate=self.rate, burst=self.burst, clock=self._clock)
        return budget

    async def acquire(self, path: str) -> None:
        await self.budget(path).acquire()

    def lock_out(self, path: str, seconds: float) -> None:
        """The service locked this pattern: send nothing on it until the lock-out ends."""
        self.budget(path).pause(seconds)
