"""Webhook deliveries the way Jira Cloud makes them.

Signed (``X-Hub-Signature: sha256=<hmac>`` when the webhook has a secret), identified
(``X-Atlassian-Webhook-Identifier``, stable across retries), retried on 408/409/425/429/5xx
and connection failures with ``X-Atlassian-Webhook-Retry: n``. Knobs make deliveries arrive
twice (``duplicate``) or in reverse order within a batch (``reorder``), as real ones can;
``comment_updates_issue`` also raises ``jira:issue_updated`` (``issue_commented`` …) for
every comment change, as Jira Cloud does, so a receiver sees the comment twice.
Dynamic (app) webhooks stop at their expiry; one event matching several of them for the
same URL is delivered once, naming them all in ``matchedWebhookIds``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import aiohttp
import anyio
import msgspec

from adapters.jira.simulator.clock import SimClock
from adapters.jira.simulator.jql import JqlError, parse
from adapters.jira.simulator.state import Issue

RETRY_STATUSES = frozenset({408, 409, 425, 429})


@dataclass
class Hook:
    id: int
    name: str
    url: str
    events: list[str]
    jql: str = ""
    secret: str | None = None
    enabled: bool = True
    exclude_body: bool = False
    expires_at: datetime | None = None  # dynamic (app) webhooks only

    @property
    def dynamic(self) -> bool:
        return self.expires_at is not None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def wants(self, event: str, issue: Issue | None, zone: tzinfo, now: datetime) -> bool:
        if not self.enabled or event not in self.events or not self.live(now):
            return False
        if not self.jql or issue is None:
            return True
        try:
            return parse(self.jql, zone=zone, now=now).predicate(issue.query_view())
        except JqlError:
            return False


@dataclass
class Attempt:
    hook_id: int
    identifier: str
    event: str
    retry: int
    status: int | None  # None = connection failed


@dataclass
class Deliveries:
    retries: int = 5
    retry_base: float = 0.5
    duplicate: bool = False
    reorder: bool = False
    comment_updates_issue: bool = False
    batch_window: float = 0.05
    clock: SimClock = field(default_factory=SimClock)
    hooks: dict[int, Hook] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    _queue: list[tuple[Hook, str, str, bytes]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    # asyncio (not anyio) events: they may be created before the loop runs.
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _in_flight: int = 0

    def add_hook(self, **kwargs: Any) -> Hook:
        hook = Hook(id=len(self.hooks) + 1 + max(self.hooks, default=0), **kwargs)
        self.hooks[hook.id] = hook
        return hook

    def publish(self, event: str, payload: dict[str, Any], issue: Issue | None,
                zone: tzinfo = UTC) -> None:
        """Queue ``payload`` for every hook that wants it (JQL read in ``zone``)."""
        now = self.clock.now()
        dynamic: dict[str, list[Hook]] = {}
        for hook in self.hooks.values():
            if not hook.wants(event, issue, zone, now):
                continue
            if hook.dynamic:
                dynamic.setdefault(hook.url, []).append(hook)
            else:
                self._enqueue(hook, event, {} if hook.exclude_body else payload)
        for hooks in dynamic.values():
            self._enqueue(hooks[0], event,
                          {**payload, "matchedWebhookIds": [h.id for h in hooks]})
        self._wake.set()

    def _enqueue(self, hook: Hook, event: str, payload: dict[str, Any]) -> None:
        self._queue.append((hook, str(next(self._ids)), event, msgspec.json.encode(payload)))
        self._idle.clear()

    @property
    def pending(self) -> int:
        return len(self._queue) + self._in_flight

    async def settled(self) -> None:
        """Wait until every queued delivery (with its retries) has finished."""
        if self.pending:
            await self._idle.wait()

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self.reorder:
                    await anyio.sleep(self.batch_window)
                batch, self._queue = self._queue, []
                self._in_flight += len(batch)
                if self.reorder:
                    batch.reverse()
                async with anyio.create_task_group() as group:
                    for item in batch:
                        group.start_soon(self._deliver, session, *item)

    async def _deliver(self, session: aiohttp.ClientSession, hook: Hook, identifier: str,
                       event: str, body: bytes) -> None:
        try:
            for _ in range(2 if self.duplicate else 1):
                await self._deliver_once(session, hook, identifier, event, body)
        finally:
            self._in_flight -= 1
            if not self.pending:
                self._idle.set()

    async def _deliver_once(self, session: aiohttp.ClientSession, hook: Hook, identifier: str,
                            event: str, body: bytes) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "X-Atlassian-Webhook-Identifier": identifier,
                   "X-Atlassian-Webhook-Flow": "Primary",
                   "User-Agent": "Atlassian Webhook HTTP Client"}
        if hook.secret:
            digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        for retry in range(self.retries + 1):
            if retry:
                headers["X-Atlassian-Webhook-Retry"] = str(retry)
                await anyio.sleep(self.retry_base * 2 ** (retry - 1))
            status: int | None
            try:
                async with session.post(hook.url, data=body, headers=headers) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = None
            self.attempts.append(Attempt(hook.id, identifier, event, retry, status))
            if status is not None and status not in RETRY_STATUSES and status < 500:
                return
