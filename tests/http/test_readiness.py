"""/readyz says what keeps the daemon from doing its job: failed SCIs, unverifiable webhooks."""

import anyio
import msgspec

from actors.mailbox import Mailbox
from actors.supervisor import RestartPolicy, Supervisor

from .conftest import EdgeFactory, edge_config


class Crasher:
    async def run(self, mailbox: Mailbox) -> None:
        raise UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte")


async def test_failed_sci_makes_readyz_not_ready(edge_factory: EdgeFactory, eventually) -> None:
    edge = await edge_factory()
    supervisor = edge.runtime.supervisor = Supervisor(RestartPolicy(max_restarts=0))
    assert (await edge.client.get("/readyz")).status == 200
    async with anyio.create_task_group() as group:
        await group.start(supervisor.run)
        supervisor.start("sup-task", Crasher)
        await eventually(lambda: (i := supervisor.info("sup-task")) and i.state == "failed")
        ready = await edge.client.get("/readyz")
        health = await edge.client.get("/healthz")
        await supervisor.shutdown(grace=1)
    body = await ready.json()
    assert ready.status == 503 and body["ready"] is False
    assert any("sup-task" in p and "UnicodeDecodeError" in p and "reload" in p
               for p in body["problems"])
    assert health.status == 200  # alive; the failed SCI is listed, not fatal
    assert "sup-task" in (await health.json())["failed_scis"]


async def test_missing_webhook_secret_makes_readyz_not_ready(edge_factory: EdgeFactory) -> None:
    config = edge_config()
    assert config.jira is not None
    jira = msgspec.structs.replace(config.jira, webhook_secret="")
    edge = await edge_factory(msgspec.structs.replace(config, jira=jira))
    response = await edge.client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert any("jira.webhook_secret" in p for p in body["problems"])
