import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from actors.mailbox import Mailbox
from actors.messages import Drain, InboxArrived
from actors.supervisor import Supervisor
from bridge.config import Config
from bridge.http.app import build_app
from bridge.runtime import Runtime
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

SECRET = "It's a Secret to Everybody"


def config(max_body: int = 4096) -> Config:
    scis = [
        {"id": "sup-task", "name": "Support tasks", "mode": "two_way", "jira_projects": ["SUP"],
         "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"}},
        {"id": "eng-view", "name": "Eng display", "mode": "display", "jira_projects": ["ENG"],
         "zoho": {"system": "crm", "module": "Deals"}},
    ]
    return msgspec.convert(
        {"http": {"max_body_bytes": max_body},
         "jira": {"site_url": "https://x.atlassian.net", "webhook_secret": SECRET},
         "sci": scis},
        Config,
    )


class Recorder:
    def __init__(self, seen: list[tuple[str, int]], actor_id: str) -> None:
        self.seen, self.actor_id = seen, actor_id

    async def run(self, mailbox: Mailbox) -> None:
        while not isinstance(message := await mailbox.next(), Drain):
            if isinstance(message, InboxArrived):
                self.seen.append((self.actor_id, message.event_id))


class Harness:
    def __init__(self, client: TestClient, runtime: Runtime, seen: list[tuple[str, int]],
                 db: Path) -> None:
        self.client, self.runtime, self.seen, self.db = client, runtime, seen, db

    async def post(self, payload: Any, *, delivery: str = "d-1", signature: str | None = None,
                   raw: bytes | None = None):
        body = raw if raw is not None else msgspec.json.encode(payload)
        sig = signature if signature is not None else "sha256=" + hmac.new(
            SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature": sig, "X-Atlassian-Webhook-Identifier": delivery,
                   "Content-Type": "application/json"}
        return await self.client.post("/webhooks/jira", data=body, headers=headers)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    db = tmp_path / "bridge.db"
    store = SqliteStore(db, SecretBox(SecretBox.generate_key()))
    await store.open()
    runtime = Runtime(config=config(), store=store, supervisor=Supervisor(),
                      migrations_done=True)
    async with TestClient(TestServer(build_app(runtime))) as client:
        yield Harness(client, runtime, [], db)
    await store.close()


@asynccontextmanager
async def actors_running(harness: Harness) -> AsyncIterator[None]:
    """Run one recording actor per SCI for the duration of the block."""
    supervisor = harness.runtime.supervisor
    async with anyio.create_task_group() as group:
        await group.start(supervisor.run)
        for sci in harness.runtime.config.sci:
            supervisor.start(sci.id, lambda i=sci.id: Recorder(harness.seen, i))
        try:
            yield
        finally:
            await supervisor.shutdown(grace=1)


def issue_event(key: str, project: str, issue_type: str) -> dict[str, Any]:
    return {
        "webhookEvent": "jira:issue_updated", "timestamp": 1,
        "issue": {"id": "10001", "key": key,
                  "fields": {"project": {"key": project}, "issuetype": {"name": issue_type}}},
    }


async def test_signed_event_is_stored_then_routed(harness: Harness, eventually) -> None:
    async with actors_running(harness):
        response = await harness.post(issue_event("SUP-1", "SUP", "Task"))
        assert response.status == 202
        body = await response.json()
        await eventually(lambda: harness.seen == [("sup-task", body["event_id"])])
    body = await response.json()
    assert body["routed_to"] == ["sup-task"]
    pending = await harness.runtime.store.inbox_pending("sup-task")
    assert [item.event_id for item in pending] == [body["event_id"]]
    assert await harness.runtime.store.inbox_pending("eng-view") == []


async def test_event_is_durable_before_the_answer(harness: Harness) -> None:
    response = await harness.post(issue_event("SUP-2", "SUP", "Task"), delivery="durable")
    assert response.status == 202
    # A second, independent connection sees the committed event right after the 2xx.
    other = SqliteStore(harness.db, SecretBox(SecretBox.generate_key()))
    await other.open()
    try:
        assert len(await other.inbox_pending("sup-task")) == 1
    finally:
        await other.close()


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "garbage"])
async def test_bad_signature_is_401_and_stores_nothing(harness: Harness, signature: str) -> None:
    response = await harness.post(issue_event("SUP-1", "SUP", "Task"), signature=signature)
    assert response.status == 401
    assert await harness.runtime.store.inbox_pending("sup-task") == []


async def test_oversized_body_is_413(harness: Harness) -> None:
    big = issue_event("SUP-1", "SUP", "Task") | {"padding": "x" * 10_000}
    response = await harness.post(big)
    assert response.status == 413
    assert await harness.runtime.store.inbox_pending("sup-task") == []


async def test_malformed_json_is_400(harness: Harness) -> None:
    response = await harness.post(None, raw=b'{"webhookEvent": ')
    assert response.status == 400
    assert "malformed JSON" in (await response.json())["error"]


async def test_duplicate_delivery_is_acknowledged_once(harness: Harness) -> None:
    first = await harness.post(issue_event("SUP-1", "SUP", "Task"), delivery="same")
    again = await harness.post(issue_event("SUP-1", "SUP", "Task"), delivery="same")
    assert (first.status, again.status) == (202, 200)
    assert (await again.json())["status"] == "duplicate"
    assert len(await harness.runtime.store.inbox_pending("sup-task")) == 1


async def test_concurrent_retries_of_one_delivery_store_one_event(harness: Harness) -> None:
    statuses: list[int] = []

    async def deliver() -> None:
        statuses.append((await harness.post(issue_event("SUP-3", "SUP", "Task"),
                                            delivery="race")).status)

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(deliver)
    assert sorted(statuses) == [200] * 19 + [202]
    assert len(await harness.runtime.store.inbox_pending("sup-task")) == 1


async def test_concurrent_distinct_deliveries_are_all_routed(harness: Harness, eventually) -> None:
    async def deliver(n: int) -> None:
        project, kind = ("SUP", "Task") if n % 2 else ("ENG", "Bug")
        response = await harness.post(issue_event(f"{project}-{n}", project, kind),
                                      delivery=f"delivery-{n}")
        assert response.status == 202

    async with actors_running(harness):
        async with anyio.create_task_group() as group:
            for n in range(16):
                group.start_soon(deliver, n)
        # Each actor is woken; wake-ups still queued cover later ones, the inbox holds all.
        await eventually(lambda: {actor for actor, _ in harness.seen} == {"sup-task",
                                                                           "eng-view"})
    store = harness.runtime.store
    assert len(await store.inbox_pending("sup-task")) == 8
    assert len(await store.inbox_pending("eng-view")) == 8


async def test_unrouted_event_is_acknowledged_not_stored(harness: Harness) -> None:
    response = await harness.post(issue_event("OPS-1", "OPS", "Task"))
    assert response.status == 202
    assert (await response.json())["status"] == "ignored"


async def test_metrics_count_outcomes(harness: Harness) -> None:
    await harness.post(issue_event("SUP-1", "SUP", "Task"), signature="sha256=bad")
    text = await (await harness.client.get("/metrics")).text()
    assert 'bridge_webhook_events_total{result="bad_signature",source="jira"}' in text
    assert "bridge_http_requests_total" in text
