"""The poll gauges an operator alerts on: the interval, and when a poll last went through."""

import time

from prometheus_client import REGISTRY

from bridge.engine.metrics import LAST_POLL
from tests.engine.conftest import World


def sample(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"sci": "cases"})


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
