"""Backfill: ``BENCH_RECORDS`` CRM cases are waiting when the daemon starts, with one SCI
that auto-creates a Jira issue per new case, and the Jira simulator limited to
``BENCH_JIRA_RPS`` requests/s (the daemon's Jira budget set to the same rate). The SCI's
Zoho cursor is set to just before the import, as if the cases had arrived while the daemon
was stopped. Timed from the daemon's start until every case has its issue in Jira, carrying
the Zoho remote link (the last Jira write of a new link).

``requests_per_issue``: the daemon's Jira requests (counted by the simulator, the few the
live edits cost included) / cases.
``bound_s``: ``requests_per_issue`` * cases / rate, the time the rate limit alone implies;
``ratio_to_bound``: measured time / ``bound_s``. ``duplicates``: cases with more than one
issue (by the auto-create mark on the issue); ``failures``: cases without an issue when the
daemon is idle, plus dead letters.

Meanwhile a person edits a linked issue's summary in Jira, and another a linked case's
subject in Zoho, every ``BENCH_LIVE_EVERY`` seconds: ``live_p50_s``/``live_p99_s`` time each
edit until the other side's simulator acknowledges the write that carries it.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path

import anyio

from bench import report
from bench.api_efficiency import work_left
from bench.latency import Edit, Probe, knob, quantiles, versioned
from bench.report import Figures
from bench.world import (
    MODULE,
    PROJECT,
    BridgeLimits,
    DaemonProcess,
    Pair,
    Simulators,
    link_pairs,
    make_pairs,
    running,
    simulators,
    subject,
    until,
)
from bridge.secretbox import SecretBox
from bridge.store import SqliteStore
from bridge.sync import keys

SCI = "backfill"
LIVE_PAIRS = 4  # per direction
SETTLE_LIMIT = 3600.0  # seconds; a run that takes longer fails rather than hangs
SCI_OPTIONS = "auto_create = true\n"  # link notes on, as by default


async def _seed(sims: Simulators, count: int) -> list[str]:
    """``count`` new cases, inserted in bulk (not counted); their ids."""
    ids: list[str] = []
    for offset in range(0, count, 100):
        rows = [{"Subject": f"backfill {n}", "Status": "New"}
                for n in range(offset, min(count, offset + 100))]
        results = await sims.people.crm.insert(MODULE, rows)
        if any(not r.ok for r in results):
            raise RuntimeError(f"seeding failed: {results[:3]}")
        ids.extend(str(r.id) for r in results)
    return ids


async def _start_from(db: Path, moment: float) -> None:
    """Set the SCI's Zoho cursor: the daemon lists every case changed since ``moment``."""
    store = SqliteStore(db, SecretBox(SecretBox.generate_key()))
    await store.open()
    try:
        await store.put_cursor(SCI, "zoho_modified", repr(moment))
    finally:
        await store.close()


def _issues_by_record(sims: Simulators, *, linked: bool = False) -> Counter[str]:
    """Case id → its auto-created issues (by the issues' create mark); ``linked``: only
    those already carrying their remote link."""
    found: Counter[str] = Counter()
    for issue in list(sims.jira.state.issues.values()):
        mark = issue.properties.get(keys.ISSUE_PROPERTY)
        if issue.project.key == PROJECT and isinstance(mark, dict) and \
                mark.get("sci") == SCI and (issue.remote_links or not linked):
            found[str(mark["record"])] += 1
    return found


def _dead_letters(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT COUNT(*) FROM dead_letters WHERE sci_id = ?", (SCI,))
        return int(row.fetchone()[0])


async def _live(probe: Probe, items: list[str], edit: Edit, every: float,
                done: anyio.Event) -> None:
    """One edit every ``every`` seconds, round the items, until ``done``."""
    seq = 0
    while not done.is_set():
        item = items[seq % len(items)]
        probe.sent(item, seq, time.perf_counter())
        await edit(item, seq)
        seq += 1
        with anyio.move_on_after(every):
            await done.wait()


def _probes(sims: Simulators) -> tuple[Probe, Probe]:
    """(Jira edits arriving in Zoho, Zoho edits arriving in Jira)."""
    def in_zoho(record_id: str) -> str | None:
        record = sims.crm.store.find(MODULE, record_id)
        return None if record is None else str(record.get("Subject"))

    def in_jira(issue_id: str) -> str | None:
        issue = sims.jira.state.issue(issue_id)
        return None if issue is None else str(issue.fields.get("summary"))

    probes = Probe("zoho_crm", in_zoho), Probe("jira", in_jira)
    sims.tally.write_hooks[:] = [p.on_write for p in probes]
    return probes


class Live:
    """The live edits made during the backfill, each way."""

    def __init__(self, sims: Simulators, to_zoho: list[Pair], to_jira: list[Pair]) -> None:
        self.sims = sims
        self.pairs = to_zoho + to_jira
        self.to_zoho, self.to_jira = _probes(sims)
        self._keys = {p.record_id: p.issue_key for p in to_zoho}
        self._records = {p.issue_id: p.record_id for p in to_jira}

    async def _in_jira(self, record_id: str, seq: int) -> None:
        await self.sims.people.jira.edit_issue(
            self._keys[record_id], {"summary": versioned(f"case {record_id}", seq)})

    async def _in_zoho(self, issue_id: str, seq: int) -> None:
        await self.sims.people.crm.update_one(
            MODULE, self._records[issue_id], {"Subject": versioned(f"issue {issue_id}", seq)})

    async def run(self, every: float, done: anyio.Event) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(_live, self.to_zoho, list(self._keys), self._in_jira, every, done)
            group.start_soon(_live, self.to_jira, list(self._records), self._in_zoho, every,
                             done)

    async def link(self, db: Path) -> None:
        await link_pairs(db, {SCI: self.pairs},
                         {p.record_id: subject(self.sims, p.record_id) for p in self.pairs})

    def latencies(self) -> list[float]:
        return self.to_zoho.latencies + self.to_jira.latencies


async def _backfill(sims: Simulators, daemon: DaemonProcess, records: list[str],
                    live: Live, every: float) -> tuple[float, float]:
    """Seconds from the daemon's start until every case has its linked issue (the live
    edits run until then), and until the daemon has nothing left to do."""
    async def created() -> bool:
        return len(_issues_by_record(sims, linked=True)) >= len(records)

    async def idle() -> bool:
        return work_left(daemon.db) == 0

    started = time.monotonic()
    async with running(daemon):
        await live.link(daemon.db)
        done = anyio.Event()
        with anyio.fail_after(SETTLE_LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(live.run, every, done)
                await until(created, every=0.5)
                created_s = time.monotonic() - started
                done.set()
            missing = await live.to_zoho.drained(60) + await live.to_jira.drained(60)
            if missing:
                raise RuntimeError(f"{missing} live edits never arrived")
            await sims.jira.deliveries.settled()
            await until(idle, every=0.5)
    return created_s, time.monotonic() - started


async def run() -> Figures:
    count, rate = int(knob("records", 20_000, 500)), knob("jira_rps", 100, 100)
    every = knob("live_every", 2, 2)
    print(f"backfill: {count} CRM cases auto-created into Jira limited to {rate:g} "
          f"requests/s; live edits every {every:g} s each way")
    async with simulators(BridgeLimits(rate=rate, burst=2 * rate)) as sims:
        live = Live(sims, await make_pairs(sims.people, LIVE_PAIRS, "jira edited"),
                    await make_pairs(sims.people, LIVE_PAIRS, "zoho edited"))
        await anyio.sleep(2.0)  # Zoho keeps whole seconds: the pairs stay before the cursor
        cursor = time.time()
        records = await _seed(sims, count)
        with tempfile.TemporaryDirectory() as tmp:
            daemon = DaemonProcess(Path(tmp), sims, {SCI: PROJECT}, jira_rate=rate,
                                   sci_options=SCI_OPTIONS, profile_name="backfill")
            await _start_from(daemon.db, cursor)
            sims.tally.reset()
            created_s, idle_s = await _backfill(sims, daemon, records, live, every)
            dead = _dead_letters(daemon.db)
        issues = _issues_by_record(sims)
        print(f"  created after {created_s:.1f} s, idle after {idle_s:.1f} s, "
              f"{dict(sims.tally.calls)}, 429s {dict(sims.tally.limited)}")
    per_issue = sims.tally.calls[("jira", "read")] + sims.tally.calls[("jira", "write")]
    per_issue /= count
    bound = per_issue * count / rate
    latency = quantiles(live.latencies(), 1.0, "live_")
    for way, probe in (("jira → zoho", live.to_zoho), ("zoho → jira", live.to_jira)):
        print(f"  live {way}: {report.summary(quantiles(probe.latencies, 1.0))} (s)")
    return {
        "ratio_to_bound": idle_s / bound, "elapsed_s": idle_s, "created_s": created_s,
        "bound_s": bound, "requests_per_issue": per_issue, "jira_rps": rate,
        "records": count, "created": sum(1 for r in records if issues[r]),
        "duplicates": sum(1 for r in records if issues[r] > 1),
        "failures": sum(1 for r in records if not issues[r]) + dead,
        "live_p50_s": latency["live_p50"], "live_p99_s": latency["live_p99"],
        "live_max_s": latency["live_max"], "live_edits": len(live.latencies()),
        "rate_limited": sims.tally.limited["jira"],
    }
