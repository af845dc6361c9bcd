"""What every simulator route needs: state, deliveries, limits, and reply helpers."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from aiohttp import web

from adapters.jira import adf
from adapters.jira.simulator.delivery import Deliveries
from adapters.jira.simulator.render import JSON_TYPE, View
from adapters.jira.simulator.state import Issue, JiraState, User

ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
INVALID_ADF = "INVALID_INPUT"


class JiraHttpError(Exception):
    def __init__(self, status: int, messages: tuple[str, ...] = (),
                 errors: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(status, messages, errors)
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}
        self.headers = headers or {}

    def response(self) -> web.Response:
        return reply({"errorMessages": self.messages, "errors": self.errors}, self.status,
                     self.headers)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), status=status,
                        headers={"Content-Type": JSON_TYPE, **(headers or {})})


@dataclass
class Limits:
    """Burst limit for everyone plus Jira's per-issue write limit (20 writes / 2 s)."""

    rate: float = 100.0
    burst: float = 200.0
    issue_writes: int = 20
    issue_window: float = 2.0
    retry_after: int = 1
    _tokens: float = -1.0
    _stamp: float = field(default_factory=time.monotonic)

    def take(self) -> dict[str, str]:
        """Spend one request; the ``X-RateLimit-*`` headers a successful answer carries."""
        now = time.monotonic()
        if self._tokens < 0:
            self._tokens = self.burst
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens < 1:
            raise self._limited("jira-burst-based", 0)
        self._tokens -= 1
        return {"X-RateLimit-Limit": str(int(self.burst)),
                "X-RateLimit-Remaining": str(int(self._tokens))}

    def write_issue(self, issue: Issue) -> None:
        now = time.monotonic()
        recent = deque(t for t in issue.writes if now - t < self.issue_window)
        if len(recent) >= self.issue_writes:
            raise self._limited("jira-per-issue-on-write", 0)
        recent.append(now)
        issue.writes = list(recent)

    def _limited(self, reason: str, remaining: int) -> JiraHttpError:
        reset = datetime.now(UTC) + timedelta(seconds=self.retry_after)
        return JiraHttpError(429, ("Rate limit exceeded.",), headers={
            "Retry-After": str(self.retry_after), "X-RateLimit-Limit": str(int(self.burst)),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "RateLimit-Reason": reason})


@dataclass
class SimContext:
    state: JiraState
    deliveries: Deliveries
    limits: Limits
    email: str
    api_token: str
    attachment_limit: int = 100 * 1024 * 1024

    def view(self, request: web.Request) -> View:
        return View(f"{request.scheme}://{request.host}", request.match_info.get("v", "2"),
                    self.zone())

    def zone(self) -> ZoneInfo:
        """The caller's profile time zone: responses and JQL literals use it."""
        return ZoneInfo(self.caller().time_zone)

    def caller(self) -> User:
        return next(u for u in self.state.users if u.email == self.email)

    def issue(self, request: web.Request) -> Issue:
        issue = self.state.issue(request.match_info["issue"])
        if issue is None:
            raise JiraHttpError(404, ("Issue does not exist or you do not have permission to "
                                      "see it.",))
        return issue

    def document(self, request: web.Request, value: Any, name: str) -> dict[str, Any] | None:
        """A rich-text field from a request: ADF in v3, a plain string in v2."""
        if value is None:
            return None
        if request.match_info.get("v") == "3":
            if not isinstance(value, dict):
                raise JiraHttpError(400, errors={name: ADF_REQUIRED})
            if adf.problems(value):
                raise JiraHttpError(400, (INVALID_ADF,))
            return value
        if not isinstance(value, str):
            raise JiraHttpError(400, errors={name: f"Field '{name}' must be a string."})
        return adf.to_adf(value)

    def publish(self, view: View, event: str, subject: Issue, **extra: Any) -> None:
        """Queue webhook deliveries about ``subject`` (hooks filter on it by JQL).

        The payload carries the issue in REST v2 form unless ``extra`` supplies a trimmed
        ``issue`` (comment events do) or ``issue=None`` (attachment events carry none).
        """
        v2 = view.as_v2()
        payload: dict[str, Any] = {"timestamp": self.state.clock.epoch_ms(),
                                   "webhookEvent": event, "user": v2.user(self.caller()),
                                   "issue": v2.issue(subject)}
        payload.update(extra)
        self.deliveries.publish(event, {k: v for k, v in payload.items() if v is not None},
                                subject, view.zone)


async def json_body(request: web.Request) -> Any:
    try:
        return msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise JiraHttpError(400, ("Unexpected character in the request body.",)) from None
