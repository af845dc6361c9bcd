"""Webhook ingest: signed Jira deliveries per second through verify → dedupe → durable inbox.

Baseline: the same aiohttp server and client answering 202 from a bare handler, so the
ratio shows what verification, routing and the SQLite commit cost per delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import anyio
import msgspec
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.supervisor import Supervisor
from bridge.config import Config
from bridge.http.app import build_app
from bridge.runtime import Runtime
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

SECRET = "bench-secret"
DELIVERIES = 2000
CONCURRENCY = 32

Delivery = tuple[bytes, dict[str, str]]


def _config() -> Config:
    return msgspec.convert(
        {"jira": {"site_url": "https://bench.atlassian.net", "webhook_secret": SECRET},
         "sci": [{"id": "bench", "name": "Bench", "mode": "two_way", "jira_projects": ["SUP"],
                  "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"}}]},
        Config,
    )


def _payloads() -> list[Delivery]:
    out = []
    for n in range(DELIVERIES):
        body = msgspec.json.encode({
            "webhookEvent": "jira:issue_updated", "timestamp": n,
            "issue": {"id": str(10000 + n), "key": f"SUP-{n}",
                      "fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
                                 "summary": "x" * 200}},
        })
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        out.append((body, {"X-Hub-Signature": signature,
                           "X-Atlassian-Webhook-Identifier": f"bench-{n}"}))
    return out


async def _drive(url: str, payloads: list[Delivery]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(payloads)

    async def worker(session: aiohttp.ClientSession) -> None:
        for body, headers in queue:
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 202, response.status
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session, anyio.create_task_group() as group:
        for _ in range(CONCURRENCY):
            group.start_soon(worker, session)
    return time.perf_counter() - started, latencies


async def _measure(app: web.Application, label: str) -> float:
    async with TestServer(app) as server:
        elapsed, latencies = await _drive(str(server.make_url("/webhooks/jira")), _payloads())
    rate = DELIVERIES / elapsed
    cuts = statistics.quantiles(latencies, n=100)
    print(f"  {label:<28} {rate:8.0f} deliveries/s   p50 {cuts[49] * 1000:6.1f} ms"
          f"   p99 {cuts[98] * 1000:6.1f} ms")
    return rate


async def run() -> None:
    print(f"webhook ingest: {DELIVERIES} signed deliveries, {CONCURRENCY} concurrent clients")
    bare = web.Application()

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    bare.router.add_post("/webhooks/jira", accept)
    baseline = await _measure(bare, "baseline (bare handler)")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db", SecretBox(SecretBox.generate_key()))
        await store.open()
        runtime = Runtime(config=_config(), store=store, supervisor=Supervisor(),
                          migrations_done=True)
        try:
            full = await _measure(build_app(runtime), "bridge (verify+dedupe+store)")
        finally:
            await store.close()
    print(f"  ratio bridge/baseline: {full / baseline:.2f}")
