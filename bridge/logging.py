"""Structured JSON logs (structlog) with secrets redacted before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
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


def configure(level: str = "info", stream: TextIO = sys.stdout) -> None:
    """JSON lines on ``stream``; journald adds timestamps but we keep ours for files."""
    logging.basicConfig(level=level.upper(), stream=stream, format="%(message)s", force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
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
