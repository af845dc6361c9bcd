"""Zoho Projects V3 errors: the ``{"error": {...}}`` envelope and its throttle answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from adapters.http import Answer, Outcome, RemoteError, Verdict, default_classifier

SYSTEM = "zoho_projects"
THROTTLE_TITLE = "URL_ROLLING_THROTTLES_LIMIT_EXCEEDED"
# The service documents a 15-30 minute lock-out; without a stated delay assume the longest.
DEFAULT_LOCKOUT = 30 * 60.0
_TRY_AGAIN = re.compile(r"try again after (\d+) (minute|second)", re.IGNORECASE)


class ZohoProjectsError(RemoteError):
    def __init__(self, message: str, *, status: int | None, outcome: Outcome,
                 title: str = "", error_type: str = "", details: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(SYSTEM, message, status=status, outcome=outcome)
        self.title = title
        self.error_type = error_type
        self.details = details
        self.retry_after = retry_after


class _Envelope(msgspec.Struct):
    status_code: int | str = 0
    title: str = ""
    error_type: str = ""
    details: list[dict[str, Any]] | dict[str, Any] = []


class _Body(msgspec.Struct):
    error: _Envelope | None = None


def _envelope(body: bytes) -> _Envelope | None:
    try:
        return msgspec.json.decode(body, type=_Body).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _messages(details: Any) -> list[str]:
    items = details if isinstance(details, list) else [details]
    return [str(d["message"]) for d in items if isinstance(d, dict) and d.get("message")]


def lockout_seconds(details: Any) -> float | None:
    """Seconds from "... Try again after N minutes." in the error details."""
    for message in _messages(details):
        match = _TRY_AGAIN.search(message)
        if match:
            return int(match[1]) * (60.0 if match[2].lower() == "minute" else 1.0)
    return None


def projects_classifier(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    """Throttling comes as HTTP 400 ``URL_ROLLING_THROTTLES_LIMIT_EXCEEDED`` (or 429)."""
    envelope = _envelope(body) if status >= 400 else None
    throttled = envelope is not None and envelope.title == THROTTLE_TITLE
    if status == 429 or throttled:
        stated = lockout_seconds(envelope.details) if envelope else None
        header = default_classifier(429, headers, b"").retry_after
        fallback = DEFAULT_LOCKOUT if throttled else None
        return Verdict(Outcome.RATE_LIMITED, stated or header or fallback)
    return default_classifier(status, headers, body)


def projects_error(answer: Answer, outcome: Outcome) -> ZohoProjectsError:
    envelope = _envelope(answer.body) or _Envelope()
    text = "; ".join(_messages(envelope.details)) or answer.body[:200].decode("utf-8", "replace")
    text = f"{envelope.title}: {text}" if envelope.title else text
    if outcome is Outcome.AUTH:
        text = f"connection needs attention ({text})"
    retry_after = None
    if outcome is Outcome.RATE_LIMITED:
        retry_after = projects_classifier(answer.status, answer.headers, answer.body).retry_after
    return ZohoProjectsError(text or f"HTTP {answer.status}", status=answer.status,
                             outcome=outcome, title=envelope.title,
                             error_type=envelope.error_type, details=envelope.details,
                             retry_after=retry_after)


def validation_error(message: str) -> ZohoProjectsError:
    """A request we refuse to send (bad input), shaped like the service's own errors."""
    return ZohoProjectsError(message, status=None, outcome=Outcome.PERMANENT,
                             title="INVALID_PARAMETER_VALUE",
                             error_type="FIELDS_VALIDATION_ERROR")
