"""Jira → Zoho latency: a person edits a linked issue's summary in Jira; timed until the
Zoho CRM simulator acknowledges the write of that summary on the linked case.

The daemon runs as its own process (``bridge run`` with a TOML file) with webhook delivery:
the Jira simulator delivers each change, signed, to the daemon's ``/webhooks/jira``. Edits
are spread over ``PAIRS`` linked issues at ``BENCH_RATE`` per second for
``BENCH_DURATION`` seconds (``BENCH_QUICK=1`` or ``--quick``: a short run). The baseline
is the cron sync (``bench/cron_sync.py``) every ``BENCH_CRON_INTERVAL`` seconds under the
same edits.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import aiohttp
import anyio

from bench.cron_sync import CronSync
from bench.latency import Probe, drive, knob, quantiles, versioned
from bench.report import Figures
from bench.world import (
    MODULE,
    PROJECT,
    DaemonProcess,
    Pair,
    Simulators,
    connect,
    link_pairs,
    make_pairs,
    running,
    simulators,
    subject,
)

SCI = "cases"
PAIRS = 50


def _probe(sims: Simulators) -> Probe:
    def read(record_id: str) -> str | None:
        record = sims.crm.store.find(MODULE, record_id)
        return None if record is None else str(record.get("Subject"))

    probe = Probe("zoho_crm", read)
    sims.tally.write_hooks[:] = [probe.on_write]
    return probe


async def _measure(sims: Simulators, pairs: list[Pair], rate: float,
                   duration: float, settle: float) -> tuple[Probe, int]:
    probe = _probe(sims)
    by_record = {p.record_id: p for p in pairs}

    async def edit(record_id: str, seq: int) -> None:
        await sims.people.jira.edit_issue(by_record[record_id].issue_key,
                                          {"summary": versioned(f"case {record_id}", seq)})

    await drive(probe, list(by_record), edit, rate, duration)
    return probe, await probe.drained(settle)


async def _baseline(sims: Simulators, pairs: list[Pair], rate: float, duration: float,
                    interval: float) -> Probe:
    async with aiohttp.ClientSession() as session:
        jira, crm = await connect(sims.jira, sims.accounts, sims.urls, session)
        cron, stop = CronSync(jira, crm, pairs, interval), anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(cron.run, stop)
            probe, _ = await _measure(sims, pairs, rate, duration, interval * 2 + 5)
            stop.set()
    return probe


async def run() -> Figures:
    rate, duration = knob("rate", 50, 50), knob("duration", 60, 10)
    interval = knob("cron_interval", 5, 5)
    print(f"jira → zoho latency: {rate:g} edits/s for {duration:g} s over {PAIRS} linked "
          f"issues; baseline cron sync every {interval:g} s")
    async with simulators() as sims:
        pairs = await make_pairs(sims.people, PAIRS, "case")
        baseline = await _baseline(sims, pairs, rate, duration, interval)
        summaries = {p.record_id: subject(sims, p.record_id)
                     for p in pairs}
        with tempfile.TemporaryDirectory() as tmp:
            daemon = DaemonProcess(Path(tmp), sims, {SCI: PROJECT},
                                   profile_name="jira_to_zoho_latency")
            async with running(daemon):
                await link_pairs(daemon.db, {SCI: pairs}, summaries)
                sims.tally.reset()
                probe, missing = await _measure(sims, pairs, rate, duration, 30)
    if missing:
        raise RuntimeError(f"{missing} Jira edits never reached Zoho")
    ours, base = quantiles(probe.latencies, 1000), quantiles(baseline.latencies, 1000)
    return {
        "p50_ms": ours["p50"], "p99_ms": ours["p99"], "max_ms": ours["max"],
        "baseline_p50_ms": base["p50"], "baseline_p99_ms": base["p99"],
        "ratio_p99": base["p99"] / ours["p99"],
        "events": int(rate * duration), "per_second": rate,
        "baseline_interval_s": interval,
        "calls_per_event": sims.tally.total() / (rate * duration),
        "rate_limited": sum(sims.tally.limited.values()),
    }
