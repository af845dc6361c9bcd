"""Template filters: times people can read, durations, on/off."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def when(epoch: float) -> str:
    if not epoch:
        return "never"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(epoch: float, now: float | None = None) -> str:
    if not epoch:
        return "never"
    seconds = int((time.time() if now is None else now) - epoch)
    if seconds < 0:
        return "in " + _span(-seconds)
    return "just now" if seconds < 5 else _span(seconds) + " ago"


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def direction(value: str) -> str:
    return {"jira_to_zoho": "Jira → Zoho", "zoho_to_jira": "Zoho → Jira"}.get(value, value)


FILTERS: dict[str, Callable[..., Any]] = {
    "when": when, "ago": ago, "duration": duration, "direction": direction,
}
