from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec
import pytest

from actors.backoff import Backoff
from actors.messages import InboxArrived, PollNow
from actors.sci import EventResult, PollResult, SciActor
from actors.supervisor import RestartPolicy, Supervisor
from bridge.journal import JournalEngine, describe
from bridge.sci import SciConfig
from bridge.secretbox import SecretBox
from bridge.store import InboxItem, OutboxDraft, SqliteStore

SCI = msgspec.convert(
    {"id": "sup", "name": "Support", "mode": "two_way", "jira_projects": ["SUP"],
     "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"},
     "poll_interval": 1.0},
    SciConfig,
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "b.db", SecretBox(SecretBox.generate_key()))
    await store.open()
    yield store
    await store.close()


def event(key: str) -> bytes:
    return msgspec.json.encode({"webhookEvent": "jira:issue_updated", "issue": {"key": key}})


class FlakyEngine:
    """Crashes on the first sight of SUP-2, then succeeds; queues one write per event."""

    def __init__(self) -> None:
        self.crashed = False
        self.polls = 0

    async def handle_event(self, sci: SciConfig, item: InboxItem) -> EventResult:
        text = describe(item.payload)
        if "SUP-2" in text and not self.crashed:
            self.crashed = True
            raise RuntimeError("engine bug")
        draft = OutboxDraft(sci_id=sci.id, idempotency_key=f"evt-{item.event_id}",
                            operation="noop", payload=item.payload)
        return EventResult("done", text, (draft,))

    async def poll(self, sci: SciConfig) -> PollResult | None:
        self.polls += 1
        return PollResult(changes=0, errors=0, summary="nothing new")


async def test_crash_mid_item_replays_it_without_loss_or_duplicate(store, eventually) -> None:
    for n in (1, 2, 3):
        await store.inbox_append("jira", f"d{n}", event(f"SUP-{n}"), ["sup"])
    engine = FlakyEngine()
    policy = RestartPolicy(max_restarts=3, within=60, backoff=Backoff(base=0.001, jitter=0))
    supervisor = Supervisor(policy)
    async with anyio.create_task_group() as group:
        await group.start(supervisor.run)
        supervisor.start("sup", lambda: SciActor(SCI, store, engine))
        await eventually(lambda: _drained(store))
        await supervisor.shutdown(grace=1)
    assert engine.crashed
    info = supervisor.info("sup")
    assert info is not None and info.restarts == 1
    queued = await store.outbox_due("sup", now=1e12)
    assert sorted(item.idempotency_key for item in queued) == ["evt-1", "evt-2", "evt-3"]
    history = [entry.summary for entry in await store.recent_syncs("sup")]
    assert sorted(history) == [f"jira:issue_updated SUP-{n}" for n in (1, 2, 3)]


async def _drained(store: SqliteStore) -> bool:
    return await store.inbox_depth("sup") == 0


async def test_poll_tick_and_wake_up_messages(store, eventually) -> None:
    engine = FlakyEngine()
    supervisor = Supervisor()
    async with anyio.create_task_group() as group:
        await group.start(supervisor.run)
        supervisor.start("sup", lambda: SciActor(SCI, store, engine))
        supervisor.offer("sup", PollNow("manual refresh"))
        await eventually(lambda: engine.polls >= 1)
        await store.inbox_append("jira", "late", event("SUP-9"), ["sup"])
        supervisor.offer("sup", InboxArrived(1))
        await eventually(lambda: _drained(store))
        await supervisor.shutdown(grace=1)
    summaries = [e.summary for e in await store.recent_syncs("sup")]
    assert "manual refresh: nothing new" in summaries
    assert "jira:issue_updated SUP-9" in summaries


async def test_journal_engine_describes_changes(store) -> None:
    payload = msgspec.json.encode({
        "webhookEvent": "jira:issue_updated", "issue": {"key": "SUP-4"},
        "changelog": {"items": [{"field": "status", "fromString": "To Do", "toString": "Done"},
                                {"field": "assignee", "fromString": None, "toString": "Ann"}]}})
    item = InboxItem(event_id=1, source="jira", delivery_id="x", received_at=0, payload=payload)
    result = await JournalEngine().handle_event(SCI, item)
    assert result.status == "done"
    assert result.summary == "jira:issue_updated SUP-4: status To Do → Done; assignee ∅ → Ann"
    broken = InboxItem(event_id=2, source="jira", delivery_id="y", received_at=0, payload=b"{")
    assert (await JournalEngine().handle_event(SCI, broken)).status == "failed"
