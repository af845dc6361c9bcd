"""The simulator's wall clock: real time plus an offset that tests (or ``/_sim/clock``) move.

Everything time-dependent that a client can observe reads it: timestamps, relative JQL
dates, search-index visibility and dynamic-webhook expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def epoch_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the simulator clock only moves forward")
        self.offset += timedelta(seconds=seconds)
