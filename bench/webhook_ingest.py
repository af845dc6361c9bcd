"""Webhook ingest: signed Jira deliveries per second through verify → dedupe → durable inbox.

Baseline: the same aiohttp server and client answering 202 from a bare handler, so the
ratio shows what verification, routing and the SQLite commit cost per delivery. The two are
measured in alternating rounds so drift on the machine hits both alike; ``ratio`` is the
median of the per-round ratios. The client shares the server's event loop and process.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import aiohttp
import anyio
import msgspec
from aiohttp import web
from aiohttp.test_utils import TestServer

from actors.supervisor import Supervisor
from bench.report import Figures
from bridge.config import Config
from bridge.http.app import build_app
from bridge.runtime import Runtime
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

SECRET = "bench-secret"
DELIVERIES = 2000
CONCURRENCY = 32
ROUNDS = 5
WARM_UP = 200  # deliveries per side before measuring: connections, caches, first batches

Delivery = tuple[bytes, dict[str, str]]


def _config() -> Config:
    return msgspec.convert(
        {"jira": {"site_url": "https://bench.atlassian.net", "webhook_secret": SECRET},
         "sci": [{"id": "bench", "name": "Bench", "mode": "two_way", "jira_projects": ["SUP"],
                  "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"}}]},
        Config,
    )


def _payloads(tag: str, count: int = DELIVERIES) -> list[Delivery]:
    out = []
    for n in range(count):
        body = msgspec.json.encode({
            "webhookEvent": "jira:issue_updated", "timestamp": n,
            "issue": {"id": str(10000 + n), "key": f"SUP-{n}",
                      "fields": {"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
                                 "summary": "x" * 200}},
        })
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        out.append((body, {"X-Hub-Signature": signature,
                           "X-Atlassian-Webhook-Identifier": f"bench-{tag}-{n}"}))
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


class Round(NamedTuple):
    per_second: float
    latencies: list[float]


async def _measure(app: web.Application, payloads: list[Delivery]) -> Round:
    async with TestServer(app) as server:
        elapsed, latencies = await _drive(str(server.make_url("/webhooks/jira")), payloads)
    return Round(len(payloads) / elapsed, latencies)


def _bare_app() -> web.Application:
    app = web.Application()

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    app.router.add_post("/webhooks/jira", accept)
    return app


def _p99_ms(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] * 1000


def _show(label: str, measured: list[Round]) -> None:
    rates = " ".join(f"{r.per_second:6.0f}" for r in measured)
    latencies = [t for r in measured for t in r.latencies]
    print(f"  {label:<30} deliveries/s per round: {rates}   p99 {_p99_ms(latencies):6.1f} ms")


async def _rounds(runtime: Runtime) -> tuple[list[Round], list[Round]]:
    """Baseline and bridge in alternating rounds, after an unrecorded warm-up of each."""
    bare: list[Round] = []
    ours: list[Round] = []
    for side in (_bare_app(), build_app(runtime)):
        await _measure(side, _payloads("warm-up", WARM_UP))
    for round_ in range(ROUNDS):
        payloads = _payloads(str(round_))
        bare.append(await _measure(_bare_app(), payloads))
        ours.append(await _measure(build_app(runtime), payloads))
    return bare, ours


async def _check_stored(store: SqliteStore) -> None:
    """Every acknowledged delivery is in the inbox once: speed bought by losing or
    duplicating events would not count."""
    stored, sent = await store.inbox_depth("bench"), WARM_UP + DELIVERIES * ROUNDS
    if stored != sent:
        raise RuntimeError(f"{sent} deliveries acknowledged but {stored} stored")


def _figures(bare: list[Round], ours: list[Round]) -> Figures:
    latencies = [t for r in ours for t in r.latencies]
    return {
        "ratio": statistics.median(
            o.per_second / b.per_second for o, b in zip(ours, bare, strict=True)),
        "per_second": statistics.median(r.per_second for r in ours),
        "p99_ms": _p99_ms(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "baseline_per_second": statistics.median(r.per_second for r in bare),
        "baseline_p99_ms": _p99_ms([t for r in bare for t in r.latencies]),
        "deliveries": DELIVERIES * ROUNDS,
        "concurrency": CONCURRENCY,
    }


async def run() -> Figures:
    print(f"webhook ingest: {DELIVERIES} signed deliveries x {ROUNDS} rounds, "
          f"{CONCURRENCY} concurrent clients")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db", SecretBox(SecretBox.generate_key()))
        await store.open()
        runtime = Runtime(config=_config(), store=store, supervisor=Supervisor(),
                          migrations_done=True)
        try:
            bare, ours = await _rounds(runtime)
            await _check_stored(store)
        finally:
            await store.close()
    _show("baseline (bare handler)", bare)
    _show("bridge (verify+dedupe+store)", ours)
    return _figures(bare, ours)
