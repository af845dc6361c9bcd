"""Scale: ``BENCH_SCIS`` SCIs (1,000) holding ``BENCH_LINKS`` links (100,000) in one daemon.

The SCIs are spread over the CRM modules the ``summary ↔ Subject`` mapping fits and a few
Jira projects; the links (and their poll cursors, as a daemon that ran before left them)
are written into the store before the daemon starts. The records behind the links are not
created: an idle daemon only lists what changed since its cursors, and nothing does.

``ready_s``: process start → ``/readyz`` answers 200 (every SCI's engine has read both
sides' metadata). The idle window opens once the daemon has made no call for
``BENCH_SETTLE`` seconds (the start-up polls are over) and lasts ``BENCH_IDLE`` seconds
(default: one poll interval, so every SCI polls once in it). ``rss_mb``: the larger VmRSS
at its start and end. ``idle_cpu_pct``: the daemon's CPU time (user + system) over the
window / wall time, in percent of one core. Baseline: the same daemon with 1 SCI, 0 links.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import anyio

from adapters.jira.simulator.state import default_workflow
from bench.latency import knob
from bench.report import Figures
from bench.world import DaemonProcess, Pair, Simulators, link_pairs, running, simulators
from bridge.config import load
from bridge.daemon import save_scis
from bridge.engine.engine import JIRA_CURSOR, ZOHO_CURSOR, ZOHO_NOTES_CURSOR
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore

# CRM modules with a Subject field, the Zoho side of the mapping every bench SCI uses
MODULES = ("Cases", "Tasks", "Calls", "Quotes", "Invoices", "Sales_Orders", "Purchase_Orders")
PROJECTS = 10
QUIET_LIMIT = 120.0  # seconds


@dataclass(frozen=True)
class Usage:
    rss_mb: float
    cpu_s: float  # user + system time so far


def usage(pid: int) -> Usage:
    """A process's resident memory and CPU time, from ``/proc``."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines()
                  if line.startswith("VmRSS:"))
    # Fields after the command name (which may hold spaces): state is field 3, utime 14.
    after_name = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(after_name[11]) + int(after_name[12])
    return Usage(rss_kb / 1024, ticks / os.sysconf("SC_CLK_TCK"))


@dataclass(frozen=True)
class Footprint:
    ready_s: float
    rss_mb: float
    idle_cpu_pct: float


async def _footprint(daemon: DaemonProcess, settle: float, idle: float) -> Footprint:
    started = time.monotonic()
    async with running(daemon):
        ready = time.monotonic() - started
        if daemon.proc is None:
            raise RuntimeError("the daemon did not start")
        pid = daemon.proc.pid
        with anyio.fail_after(QUIET_LIMIT):
            await _quiet(daemon.sims, settle)
        daemon.sims.tally.reset()
        before, since = usage(pid), time.monotonic()
        await anyio.sleep(idle)
        after, wall = usage(pid), time.monotonic() - since
        print(f"  {len(daemon.scis)} SCIs: ready in {ready:.2f} s, idle calls "
              f"{dict(daemon.sims.tally.calls)}")
    return Footprint(ready, max(before.rss_mb, after.rss_mb),
                     100 * (after.cpu_s - before.cpu_s) / wall)


async def _quiet(sims: Simulators, seconds: float) -> None:
    """Until the daemon has made no call for ``seconds``: the start-up polls are over."""
    while True:
        calls = sims.tally.total()
        await anyio.sleep(seconds)
        if sims.tally.total() == calls:
            return


def _scis(sims: Simulators, count: int) -> tuple[dict[str, str], dict[str, str]]:
    """(SCI id → Jira project, SCI id → CRM module), spread over projects and modules."""
    projects = [f"S{n:02d}" for n in range(min(PROJECTS, count))]
    for key in projects:
        if sims.jira.state.project(key) is None:
            sims.jira.state.add_project(key, f"Scale {key}", default_workflow())
    ids = [f"sci{n:04d}" for n in range(count)]
    return ({sci: projects[n % len(projects)] for n, sci in enumerate(ids)},
            {sci: MODULES[n % len(MODULES)] for n, sci in enumerate(ids)})


def _links(scis: dict[str, str], per_sci: int) -> dict[str, list[Pair]]:
    """Distinct made-up issues and records, ``per_sci`` for each SCI."""
    pairs: dict[str, list[Pair]] = {}
    for n, (sci, project) in enumerate(scis.items()):
        first = n * per_sci
        pairs[sci] = [Pair(str(10_000_000 + i), f"{project}-{i + 1}", str(900_000_000 + i))
                      for i in range(first, first + per_sci)]
    return pairs


async def _measure(sims: Simulators, scis: int, links: int, poll_interval: float,
                   settle: float, idle: float) -> Footprint:
    with tempfile.TemporaryDirectory() as tmp:
        projects, modules = _scis(sims, scis)
        daemon = DaemonProcess(Path(tmp), sims, projects, poll_interval=poll_interval,
                               modules=modules, profile_name=f"scale_{scis}")
        if links:
            await _seed(daemon, _links(projects, links // scis))
        return await _footprint(daemon, settle, idle)


async def _seed(daemon: DaemonProcess, pairs: dict[str, list[Pair]]) -> None:
    """The SCIs (as the daemon mirrors them from its config), their links and cursors."""
    config = daemon.workdir / "seed.toml"
    config.write_text(daemon.config())
    store = SqliteStore(daemon.db, SecretBox(SecretBox.generate_key()))
    await store.open()
    try:
        await save_scis(store, load(config))
    finally:
        await store.close()
    now = repr(time.time())
    await link_pairs(daemon.db, pairs,
                     {p.record_id: f"record {p.record_id}" for ps in pairs.values() for p in ps},
                     dict.fromkeys((ZOHO_CURSOR, JIRA_CURSOR, ZOHO_NOTES_CURSOR), now))


async def run() -> Figures:
    scis, links = int(knob("scis", 1_000, 100)), int(knob("links", 100_000, 10_000))
    poll_interval = knob("poll_interval", 60.0, 10.0)
    settle, idle = knob("settle", 3.0, 2.0), knob("idle", poll_interval, poll_interval)
    print(f"scale: {scis} SCIs, {links} links, polls every {poll_interval:g} s, "
          f"idle window {idle:g} s")
    async with simulators() as sims:
        base = await _measure(sims, 1, 0, poll_interval, settle, idle)
        ours = await _measure(sims, scis, links, poll_interval, settle, idle)
    return {"scis": scis, "links": links, "rss_mb": ours.rss_mb, "ready_s": ours.ready_s,
            "idle_cpu_pct": ours.idle_cpu_pct, "baseline_rss_mb": base.rss_mb,
            "baseline_ready_s": base.ready_s, "baseline_idle_cpu_pct": base.idle_cpu_pct,
            "rss_ratio": ours.rss_mb / base.rss_mb, "ready_ratio": ours.ready_s / base.ready_s,
            # an idle baseline often uses no clock tick (10 ms) in the window: floor 0.01 %
            "idle_cpu_ratio": ours.idle_cpu_pct / max(base.idle_cpu_pct, 0.01)}
