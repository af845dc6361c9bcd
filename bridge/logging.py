"""Structured JSON logs (structlog) with secrets redacted before anything is written.

Repeated identical warnings and errors are rate-limited: a flood (an accept loop out of
file descriptors, a client retrying a refused delivery) yields one line per
``REPEAT_WINDOW`` with the number of identical lines dropped, never megabytes of logs.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Hashable, MutableMapping
from typing import Any, TextIO

import structlog

_SECRET_NAMES = re.compile(
    r"(secret|token|password|authorization|api_key|encryption_key|signature|code$)", re.I
)
_INLINE_SECRETS = re.compile(
    r"(Zoho-oauthtoken\s+|Bearer\s+|Basic\s+|(?:access|refresh)_token=|client_secret=|code=)"
    r"[^\s&\"',]+",
    re.I,
)
REDACTED = "***"


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return _INLINE_SECRETS.sub(lambda m: m.group(1) + REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_NAMES.search(str(k)) else redact_value(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if _SECRET_NAMES.search(key):
            event[key] = REDACTED
        else:
            event[key] = redact_value(event[key])
    return event


REPEAT_WINDOW = 10.0
# Fields that differ between otherwise identical events (one per request or delivery).
_PER_OCCURRENCE = frozenset({"timestamp", "request_id", "delivery_id", "event_id"})
_THROTTLED_LEVELS = frozenset({"warning", "error", "critical"})


class RepeatThrottle:
    """Admits the first of identical messages, then at most one per window."""

    def __init__(self, clock: Callable[[], float], window: float = REPEAT_WINDOW,
                 max_keys: int = 1024) -> None:
        self._clock, self._window, self._max_keys = clock, window, max_keys
        self._seen: dict[Hashable, list[float]] = {}  # key -> [admitted at, dropped since]

    def admit(self, key: Hashable) -> int | None:
        """None to drop the message; otherwise how many identical ones were dropped."""
        now = self._clock()
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] < self._window:
            entry[1] += 1
            return None
        if len(self._seen) >= self._max_keys:
            self._seen = {k: e for k, e in self._seen.items() if now - e[0] < self._window}
            if len(self._seen) >= self._max_keys:
                self._seen.clear()
        self._seen[key] = [now, 0]
        return int(entry[1]) if entry is not None else 0


class _RepeatFilter(logging.Filter):
    """The throttle for records of the standard library (asyncio, aiohttp)."""

    def __init__(self, throttle: RepeatThrottle) -> None:
        super().__init__()
        self._throttle = throttle

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        suppressed = self._throttle.admit((record.name, record.levelno, str(record.msg)))
        if suppressed is None:
            return False
        if suppressed:
            record.msg = f"{record.getMessage()} ({suppressed} identical messages suppressed)"
            record.args = ()
        return True


def _throttle_repeats(throttle: RepeatThrottle) -> structlog.types.Processor:
    def processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if event.get("level") not in _THROTTLED_LEVELS:
            return event
        key = tuple(sorted((k, repr(v)) for k, v in event.items() if k not in _PER_OCCURRENCE))
        suppressed = throttle.admit(key)
        if suppressed is None:
            raise structlog.DropEvent
        if suppressed:
            event["suppressed"] = suppressed
        return event

    return processor


def configure(level: str = "info", stream: TextIO = sys.stdout,
              clock: Callable[[], float] = time.monotonic) -> None:
    """JSON lines on ``stream``; journald adds timestamps but we keep ours for files."""
    logging.basicConfig(level=level.upper(), stream=stream, format="%(message)s", force=True)
    throttle = RepeatThrottle(clock)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RepeatFilter(throttle))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _throttle_repeats(throttle),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger("bridge")
