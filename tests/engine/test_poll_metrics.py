"""The gauges an operator alerts on: the poll interval, when a poll last went through, and
how deep and how old the SCI's queues are."""

import time

import anyio
import msgspec
import pytest
from prometheus_client import REGISTRY

from bridge.engine.engine import NotReady, SciEngine
from bridge.engine.metrics import LAST_POLL
from bridge.store import StoreUnavailable
from tests.engine.conftest import World, sci


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"sci": "cases", **labels})


async def test_a_poll_that_reads_zoho_records_its_time(world: World) -> None:
    engine = world.build()
    assert await engine.start()
    assert sample("bridge_poll_interval_seconds") == engine.poll_interval
    LAST_POLL.labels("cases").set(0)
    before = time.time()
    await engine.poll()
    last = sample("bridge_last_successful_poll_timestamp_seconds")
    assert last is not None and last >= before


async def test_a_failed_poll_leaves_the_last_success_alone(world: World) -> None:
    engine = world.build()
    assert await engine.start()
    await engine.poll()
    succeeded = sample("bridge_last_successful_poll_timestamp_seconds")
    world.crm_sim.faults.update({"error_rate": 1.0})
    await engine.poll()
    assert sample("bridge_last_successful_poll_timestamp_seconds") == succeeded
    world.crm_sim.faults.update({"error_rate": 0.0})
    await engine.poll()
    after = sample("bridge_last_successful_poll_timestamp_seconds")
    assert after is not None and succeeded is not None and after >= succeeded


async def linked_edit_delivered(world: World, engine: SciEngine, summary: str) -> str:
    """A linked pair whose issue was edited in Jira, the delivery waiting in the inbox;
    the record's id."""
    assert await engine.start()
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    (record,) = await world.crm.insert("Cases", [{"Subject": "y"}])
    await engine.link_manually(issue.key, str(record.id))
    await world.jira.edit_issue(issue.key, fields={"summary": summary})
    await world.store.inbox_append("jira", "d1", msgspec.json.encode(
        {"webhookEvent": "jira:issue_updated", "issue": {"id": issue.id, "key": issue.key}}),
        ["cases"])
    return str(record.id)


async def test_a_delivery_stuck_behind_an_outage_shows_its_depth_and_age(world: World) -> None:
    engine = world.build()
    await linked_edit_delivered(world, engine, "edited in Jira")
    world.crm_sim.faults.update({"error_rate": 1.0})
    with pytest.raises(NotReady):
        await engine.process_inbox()
    assert sample("bridge_inbox_depth") == 1
    first = sample("bridge_queue_age_seconds", queue="inbox")
    await anyio.sleep(0.2)
    later = sample("bridge_queue_age_seconds", queue="inbox")
    assert first is not None and later is not None and later > first  # ages between passes
    world.crm_sim.faults.update({"error_rate": 0.0})
    await engine.process_inbox()
    assert sample("bridge_inbox_depth") == 0
    assert sample("bridge_queue_age_seconds", queue="inbox") == 0
    assert sample("bridge_queue_age_seconds", queue="outbox") == 0


async def test_a_full_store_makes_the_poll_wait_and_say_why(world: World) -> None:
    engine = world.build(sci(auto_create=True))  # a new record means a store write
    assert await engine.start()
    await world.store._conn.execute("PRAGMA query_only = ON")
    await world.crm.insert("Cases", [{"Subject": "arrives once the store is writable"}])
    assert await engine.poll() == 0  # no crash: the actor keeps its schedule
    assert "read-only" in engine.problem
    await world.store._conn.execute("PRAGMA query_only = OFF")
    await engine.poll()  # queues the create …
    await engine.retry_due()  # … which the outbox then runs
    assert engine.problem == ""
    assert len(await world.store.list_links("cases")) == 1  # the record was not lost


async def test_a_read_only_store_keeps_jira_deliveries_pending(world: World) -> None:
    engine = world.build()
    record = await linked_edit_delivered(world, engine, "edited while read-only")
    await world.store._conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreUnavailable):
        await engine.process_inbox()
    await world.store._conn.execute("PRAGMA query_only = OFF")
    assert len(await world.store.inbox_pending("cases")) == 1  # not set aside, not lost
    await engine.process_inbox()
    assert (await world.crm.record("Cases", record))["Subject"] == "edited while read-only"
