"""Zoho → Jira latency: a person edits a linked case's subject in Zoho CRM; timed until the
Jira simulator acknowledges the write of that summary on the linked issue.

Two daemon runs (each ``bridge run`` in its own process): with notification channels
(``daemon.public_url`` set, so the SCI opens a CRM watch channel and each change wakes it)
and polling only (no public URL; the SCI polls every ``BENCH_POLL_INTERVAL`` seconds, the
figure's target is that interval + 2 s). The baseline is the cron sync every
``BENCH_CRON_INTERVAL`` seconds under the same edits.
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

PAIRS = 20


def _probe(sims: Simulators) -> Probe:
    def read(issue_id: str) -> str | None:
        issue = sims.jira.state.issue(issue_id)
        return None if issue is None else str(issue.fields.get("summary"))

    probe = Probe("jira", read)
    sims.tally.write_hooks[:] = [probe.on_write]
    return probe


async def _measure(sims: Simulators, pairs: list[Pair], rate: float, duration: float,
                   settle: float) -> Probe:
    probe = _probe(sims)
    by_issue = {p.issue_id: p for p in pairs}

    async def edit(issue_id: str, seq: int) -> None:
        await sims.people.crm.update_one(MODULE, by_issue[issue_id].record_id,
                                         {"Subject": versioned(f"issue {issue_id}", seq)})

    await drive(probe, list(by_issue), edit, rate, duration)
    missing = await probe.drained(settle)
    if missing:
        raise RuntimeError(f"{missing} Zoho edits never reached Jira")
    return probe


async def _daemon_run(sims: Simulators, pairs: list[Pair], name: str, rate: float,
                      duration: float, *, poll_interval: float, notifications: bool) -> Probe:
    summaries = {p.record_id: subject(sims, p.record_id)
                 for p in pairs}
    with tempfile.TemporaryDirectory() as tmp:
        daemon = DaemonProcess(Path(tmp), sims, {name: PROJECT}, poll_interval=poll_interval,
                               notifications=notifications,
                               profile_name=f"zoho_to_jira_latency_{name}")
        async with running(daemon):
            await link_pairs(daemon.db, {name: pairs}, summaries)
            await anyio.sleep(min(poll_interval, 5.0))  # first poll: cursor, channel
            return await _measure(sims, pairs, rate, duration, poll_interval * 2 + 10)


async def _baseline(sims: Simulators, pairs: list[Pair], rate: float, duration: float,
                    interval: float) -> Probe:
    async with aiohttp.ClientSession() as session:
        jira, crm = await connect(sims.jira, sims.accounts, sims.urls, session)
        cron, stop = CronSync(jira, crm, pairs, interval), anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(cron.run, stop)
            probe = await _measure(sims, pairs, rate, duration, interval * 2 + 5)
            stop.set()
    return probe


async def run() -> Figures:
    rate, duration = knob("z2j_rate", 5, 5), knob("duration", 60, 10)
    poll, interval = knob("poll_interval", 5, 5), knob("cron_interval", 5, 5)
    print(f"zoho → jira latency: {rate:g} edits/s for {duration:g} s over {PAIRS} linked "
          f"cases; polling every {poll:g} s; baseline cron sync every {interval:g} s")
    async with simulators() as sims:
        notified = await _daemon_run(sims, await make_pairs(sims.people, PAIRS, "notified"),
                                     "notified", rate, duration, poll_interval=60.0,
                                     notifications=True)
        polled = await _daemon_run(sims, await make_pairs(sims.people, PAIRS, "polled"),
                                   "polled", rate, duration, poll_interval=poll,
                                   notifications=False)
        baseline = await _baseline(sims, await make_pairs(sims.people, PAIRS, "cron"),
                                   rate, duration, interval)
    ours, by_poll = quantiles(notified.latencies, 1.0), quantiles(polled.latencies, 1.0)
    base = quantiles(baseline.latencies, 1.0)
    return {
        "p50_s": ours["p50"], "p99_s": ours["p99"],
        "p50_poll_s": by_poll["p50"], "p99_poll_s": by_poll["p99"],
        "poll_interval_s": poll,
        "baseline_p50_s": base["p50"], "baseline_p99_s": base["p99"],
        "baseline_interval_s": interval, "ratio_p99": base["p99"] / ours["p99"],
        "events": int(rate * duration), "per_second": rate,
    }
