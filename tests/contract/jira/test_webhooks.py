"""Signed deliveries from the simulator into the daemon's own webhook endpoint."""

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from aiohttp.test_utils import TestServer

from actors.supervisor import Supervisor
from adapters.jira.client import ensure_webhook
from bridge.config import Config
from bridge.http.app import build_app
from bridge.runtime import Runtime
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

from .conftest import Jira, Receiver, receiving

SECRET = "round-trip-secret"
EVENTS = ["jira:issue_created", "jira:issue_updated", "comment_created"]


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[tuple[str, Runtime]]:
    config = msgspec.convert({
        "jira": {"site_url": "https://x.atlassian.net", "webhook_secret": SECRET},
        "sci": [{"id": "sup", "name": "Support", "mode": "two_way", "jira_projects": ["SUP"],
                 "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"}}]},
        Config)
    store = SqliteStore(tmp_path / "b.db", SecretBox(SecretBox.generate_key()))
    await store.open()
    runtime = Runtime(config=config, store=store, supervisor=Supervisor(), migrations_done=True)
    async with TestServer(build_app(runtime)) as server:
        yield str(server.make_url("/webhooks/jira")), runtime
    await store.close()


async def test_signed_deliveries_are_accepted_and_stored(jira: Jira, bridge) -> None:
    url, runtime = bridge
    await ensure_webhook(jira.client, name="bridge", url=url, events=EVENTS,
                         jql="project = SUP", secret=SECRET)
    created = await jira.client.create_issue({"project": {"key": "SUP"},
                                              "issuetype": {"name": "Task"}, "summary": "Hi"})
    await jira.client.add_comment(created.key, "first")
    await jira.client.create_issue({"project": {"key": "ENG"}, "issuetype": {"name": "Task"},
                                    "summary": "filtered out by the hook's JQL"})
    await jira.sim.deliveries.settled()
    assert [a.status for a in jira.sim.deliveries.attempts] == [202, 202]
    pending = await runtime.store.inbox_pending("sup")
    events = [msgspec.json.decode(item.payload)["webhookEvent"] for item in pending]
    assert events == ["jira:issue_created", "comment_created"]


async def test_wrong_secret_is_rejected_and_not_retried(jira: Jira, bridge) -> None:
    url, runtime = bridge
    await ensure_webhook(jira.client, name="bridge", url=url, events=EVENTS,
                         jql="project = SUP", secret="not-the-secret")
    await jira.client.add_comment("SUP-1", "hello")
    await jira.sim.deliveries.settled()
    assert [(a.status, a.retry) for a in jira.sim.deliveries.attempts] == [(401, 0)]
    assert await runtime.store.inbox_pending("sup") == []


async def test_duplicates_collapse_to_one_event(jira: Jira, bridge) -> None:
    url, runtime = bridge
    jira.sim.deliveries.duplicate = True
    await ensure_webhook(jira.client, name="bridge", url=url, events=EVENTS,
                         jql="project = SUP", secret=SECRET)
    await jira.client.add_comment("SUP-1", "twice delivered")
    await jira.sim.deliveries.settled()
    assert [a.status for a in jira.sim.deliveries.attempts] == [202, 200]
    assert len(await runtime.store.inbox_pending("sup")) == 1


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, Receiver]]:
    target = Receiver(fail_first=1)
    async with receiving(target) as url:
        yield url, target


async def test_failed_delivery_is_retried_with_header(jira: Jira, receiver) -> None:
    url, target = receiver
    await ensure_webhook(jira.client, name="r", url=url, events=EVENTS, jql="", secret=SECRET)
    await jira.client.edit_issue("SUP-2", fields={"summary": "changed"})
    await jira.sim.deliveries.settled()
    (first_id, first_retry, body), (second_id, second_retry, again) = target.seen
    assert first_id == second_id and body == again
    assert (first_retry, second_retry) == (None, "1")
    payload = msgspec.json.decode(body)
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["changelog"]["items"][0]["toString"] == "changed"
    assert payload["issue"]["fields"]["description"] == "Prepare the renewal offer."  # v2 text


async def test_reorder_knob_delivers_a_batch_backwards(jira: Jira, receiver) -> None:
    url, target = receiver
    target.fail_first = 0
    jira.sim.deliveries.reorder = True
    jira.sim.deliveries.batch_window = 0.2
    await ensure_webhook(jira.client, name="r", url=url, events=EVENTS, jql="", secret=SECRET)
    for text in ("one", "two", "three"):
        await jira.client.add_comment("SUP-1", text)
    await jira.sim.deliveries.settled()
    bodies = [msgspec.json.decode(body)["comment"]["body"] for _, _, body in target.seen]
    assert sorted(bodies) == ["one", "three", "two"]
    assert bodies != ["one", "two", "three"]
