"""The HTTP transport every adapter client is built on.

One place decides how a remote call is made: budget first, then the request with a
timeout, then a classification of the answer into one of four outcomes with a fixed
reaction:

* ``RATE_LIMITED`` (429, 503 with Retry-After, or a system-specific throttle body): pause
  the whole account's budget for ``Retry-After`` and try again (the request was not
  executed).
* ``TRANSIENT`` (5xx, timeouts, connection errors): retry with backoff, but only when the
  request is safe to repeat (idempotent, or guarded by an idempotency key).
* ``AUTH`` (401/403): give the auth provider one chance to refresh, then surface
  "connection needs attention" without a retry storm.
* ``PERMANENT`` (other 4xx): raise at once with the remote system's error details.

Adapters supply a ``Classifier`` (for throttles that hide in 400 bodies) and an error
factory that turns a failed answer into their own typed exception.
"""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import aiohttp
import anyio
import msgspec
from prometheus_client import Counter, Histogram

from actors.backoff import Backoff

API_CALLS = Counter(
    "bridge_api_calls_total", "Calls made to remote APIs", ["system", "outcome"]
)
API_RATE_LIMITED = Counter(
    "bridge_api_rate_limited_total", "Remote answers that asked us to slow down", ["system"]
)
API_LATENCY = Histogram(
    "bridge_api_call_seconds", "Remote API call latency", ["system"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class Outcome(enum.Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    AUTH = "auth"
    PERMANENT = "permanent"


class Verdict(msgspec.Struct, frozen=True):
    outcome: Outcome
    retry_after: float | None = None


class Answer(msgspec.Struct, frozen=True):
    """A fully read response."""

    status: int
    headers: Mapping[str, str]  # case-insensitive (the response's own multidict)
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RemoteError(Exception):
    """A remote call that did not succeed. Adapters subclass it with their own details."""

    def __init__(
        self,
        system: str,
        message: str,
        *,
        status: int | None = None,
        outcome: Outcome = Outcome.PERMANENT,
        body: Any = None,
    ) -> None:
        super().__init__(f"{system}: {message}" + (f" (HTTP {status})" if status else ""))
        self.system = system
        self.message = message
        self.status = status
        self.outcome = outcome
        self.body = body

    @property
    def needs_attention(self) -> bool:
        """True when a person must fix the connection (revoked token, missing permission)."""
        return self.outcome is Outcome.AUTH


Classifier = Callable[[int, Mapping[str, str], bytes], Verdict]
ErrorFactory = Callable[[Answer, Outcome], RemoteError]


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def default_classifier(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    if status < 400:
        return Verdict(Outcome.OK)
    retry_after = parse_retry_after(headers.get("Retry-After"))
    # 429, or 503 with Retry-After: the server refused before doing anything, come back later.
    # A bare 503 may have been half-processed, so it is only transient.
    if status == 429 or (status == 503 and retry_after is not None):
        return Verdict(Outcome.RATE_LIMITED, retry_after)
    if status >= 500 or status in (408, 425):
        return Verdict(Outcome.TRANSIENT)
    if status in (401, 403):
        return Verdict(Outcome.AUTH)
    return Verdict(Outcome.PERMANENT)


class Budget(Protocol):
    """A request budget shared by every caller on one account (see ``actors.budget``)."""

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Wait for a request's share of the budget and hold it while the request runs."""

    def pause(self, seconds: float) -> None:
        """The remote system said Retry-After: nobody on this account sends until then."""


class AuthProvider(Protocol):
    async def headers(self) -> dict[str, str]:
        """Authorization headers for the next request."""

    async def refresh_after_rejection(self, rejected: Mapping[str, str]) -> bool:
        """The server rejected ``rejected`` headers. Return True if a retry may succeed."""


class StaticAuth:
    """Fixed headers (Jira basic auth / API token): a rejection is final."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    async def headers(self) -> dict[str, str]:
        return dict(self._headers)

    async def refresh_after_rejection(self, rejected: Mapping[str, str]) -> bool:
        return False

    def __repr__(self) -> str:  # never show the credentials
        return "StaticAuth(<redacted>)"


HTTP_BACKOFF = Backoff(base=0.5, cap=30.0)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class Transport:
    """Makes requests for one connection (one account on one remote system)."""

    def __init__(
        self,
        system: str,
        session: aiohttp.ClientSession,
        *,
        auth: AuthProvider | None = None,
        budget: Budget | None = None,
        classifier: Classifier = default_classifier,
        error_factory: ErrorFactory | None = None,
        backoff: Backoff = HTTP_BACKOFF,
        max_attempts: int = 5,
        max_retry_after: float = 900.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.system = system
        self.session = session
        self.auth = auth
        self.budget = budget
        self._classify = classifier
        self._error = error_factory or self._generic_error
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._sleep = sleep

    async def request(
        self,
        method: str,
        url: str,
        *,
        safe: bool | None = None,
        expect: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> Answer:
        """Send and read the whole body. ``expect`` lists extra statuses that are not errors."""
        async with self.stream(method, url, safe=safe, expect=expect, **kwargs) as resp:
            return Answer(resp.status, resp.headers, await resp.read())

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        safe: bool | None = None,
        expect: tuple[int, ...] = (),
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open a response for streaming; retries happen before the body is handed out.

        ``safe`` says whether the request may be repeated after a transient failure; by
        default only idempotent methods are. ``data`` may be a zero-argument callable that
        builds a fresh body per attempt (streamed uploads cannot be replayed).
        """
        retryable = method.upper() in _IDEMPOTENT if safe is None else safe
        auth_retried = False
        for attempt in range(1, self._max_attempts + 1):
            # The slot is held until the response is released: max_concurrent counts
            # requests in flight, which is what per-org concurrency limits count.
            async with self._slot():
                sent_auth = await self.auth.headers() if self.auth else {}
                try:
                    resp = await self._send(method, url, {**(headers or {}), **sent_auth},
                                            data() if callable(data) else data, kwargs)
                except RemoteError:
                    if retryable and attempt < self._max_attempts:
                        await self._sleep(self._backoff.delay(attempt - 1))
                        continue
                    raise
                try:
                    verdict = await self._judge(resp, expect)
                    API_CALLS.labels(self.system, verdict.outcome.value).inc()
                    if verdict.outcome is Outcome.OK:
                        yield resp
                        return
                    answer = Answer(resp.status, resp.headers, await resp.read())
                finally:
                    resp.release()
            retry_in = await self._reaction(verdict, attempt, retryable, auth_retried, sent_auth)
            if retry_in is None:
                raise self._error(answer, verdict.outcome)
            auth_retried = auth_retried or verdict.outcome is Outcome.AUTH
            await self._sleep(retry_in)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _slot(self) -> AbstractAsyncContextManager[None]:
        return self.budget.slot() if self.budget is not None else nullcontext()

    async def _send(
        self, method: str, url: str, headers: dict[str, str], body: Any, kwargs: dict[str, Any]
    ) -> aiohttp.ClientResponse:
        started = anyio.current_time()
        try:
            return await self.session.request(method, url, headers=headers, data=body, **kwargs)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            API_CALLS.labels(self.system, Outcome.TRANSIENT.value).inc()
            raise RemoteError(
                self.system, f"{method} {_path(url)} failed: {exc.__class__.__name__}",
                outcome=Outcome.TRANSIENT,
            ) from exc
        finally:
            API_LATENCY.labels(self.system).observe(anyio.current_time() - started)

    async def _judge(self, resp: aiohttp.ClientResponse, expect: tuple[int, ...]) -> Verdict:
        if resp.status in expect:
            return Verdict(Outcome.OK)
        # Only error answers are read here, so successful downloads stay streamable.
        body = await resp.read() if resp.status >= 400 else b""
        return self._classify(resp.status, resp.headers, body)

    async def _reaction(
        self,
        verdict: Verdict,
        attempt: int,
        retryable: bool,
        auth_retried: bool,
        sent_auth: Mapping[str, str],
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self._max_attempts:
            return None
        match verdict.outcome:
            case Outcome.RATE_LIMITED:
                API_RATE_LIMITED.labels(self.system).inc()
                wait = verdict.retry_after
                if wait is None:
                    wait = self._backoff.delay(attempt - 1)
                if wait > self._max_retry_after:
                    return None
                if self.budget is not None:
                    self.budget.pause(wait)
                    return 0.0  # the budget itself now holds everyone back
                return wait
            case Outcome.TRANSIENT:
                return self._backoff.delay(attempt - 1) if retryable else None
            case Outcome.AUTH:
                if auth_retried or self.auth is None:
                    return None
                return 0.0 if await self.auth.refresh_after_rejection(sent_auth) else None
            case _:
                return None

    def _generic_error(self, answer: Answer, outcome: Outcome) -> RemoteError:
        text = answer.body[:500].decode("utf-8", "replace")
        return RemoteError(self.system, text or "request failed", status=answer.status,
                           outcome=outcome, body=text)


def _path(url: str) -> str:
    """The URL without query string (which may carry tokens) for error messages."""
    return url.split("?", 1)[0]
