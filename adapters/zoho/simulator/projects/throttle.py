"""The rolling per-URL-pattern throttle: N requests per window per user, then a lock-out.

Zoho answers a locked-out caller with HTTP 400 ``URL_ROLLING_THROTTLES_LIMIT_EXCEEDED`` (the
status is configurable to 429, which the docs also list) until the lock-out ends.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RollingThrottle:
    limit: int = 100
    window: float = 120.0
    lockout_minutes: float = 22.0
    status: int = 400
    clock: Callable[[], float] = time.monotonic
    _hits: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _locked_until: dict[tuple[str, str], float] = field(default_factory=dict)

    def check(self, user: str, pattern: str) -> web.Response | None:
        """Count one request; the throttle answer if it must be refused."""
        key, now = (user, pattern), self.clock()
        locked_until = self._locked_until.get(key, 0.0)
        if locked_until > now:
            return self._refusal(locked_until - now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            hits.clear()
            self._locked_until[key] = now + self.lockout_minutes * 60
            return self._refusal(self.lockout_minutes * 60)
        hits.append(now)
        return None

    def state(self) -> dict[str, object]:
        now = self.clock()
        return {"limit": self.limit, "window": self.window,
                "lockout_minutes": self.lockout_minutes, "status": self.status,
                "counts": {f"{u} {p}": len(h) for (u, p), h in self._hits.items()},
                "locked": {f"{u} {p}": round(t - now, 3)
                           for (u, p), t in self._locked_until.items() if t > now}}

    def _refusal(self, remaining: float) -> web.Response:
        minutes = max(1, math.ceil(remaining / 60))
        message = (f"Cannot execute more than {self.limit} requests per API in "
                   f"{self.window / 60:g} minutes. Try again after {minutes} minutes.")
        return web.json_response({"error": {
            "status_code": self.status, "title": "URL_ROLLING_THROTTLES_LIMIT_EXCEEDED",
            "error_type": "OPERATIONAL_VALIDATION_ERROR", "details": {"message": message}}},
            status=self.status)
