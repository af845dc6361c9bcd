"""Zoho Projects throttles per URL pattern (at most N requests per rolling window, then a
long lock-out): what a pattern is, and the pacing the client needs from its caller."""

from __future__ import annotations

import re
from typing import Protocol

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def url_pattern(path: str) -> str:
    """``/portal/1/projects/2/tasks`` -> ``/portal/{}/projects/{}/tasks``."""
    return _ID_SEGMENT.sub("/{}", path.split("?", 1)[0])


class Throttle(Protocol):
    """Paces requests per URL pattern (the daemon's ``actors.throttle.PatternThrottle``)."""

    async def acquire(self, path: str) -> None:
        """Wait until a request to ``path`` may go out."""

    def lock_out(self, path: str, seconds: float) -> None:
        """The service locked this pattern: send nothing on it until the lock-out ends."""
