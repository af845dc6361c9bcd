"""Timing changes end to end: a person's edit on one side → the other side's simulator
acknowledges the write that carries it.

Each edit writes ``"<label> v<seq>"``; after every write the target simulator accepts, the
probe reads the pending items' current values from the simulator's state and closes every
edit whose sequence number has arrived (a later edit may carry an earlier one along).
Clocks are read before the edit is sent, so the figure includes the edit itself and the
hop that tells the bridge (webhook delivery or Zoho notification/poll).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from aiohttp import web

from bench.report import Figures
from bench.world import until

Read = Callable[[str], "str | None"]  # item id → its current summary on the target side


def knob(name: str, default: float, quick: float) -> float:
    """``BENCH_<NAME>`` from the environment, else the quick or the full default."""
    value = os.environ.get(f"BENCH_{name.upper()}")
    if value:
        return float(value)
    return quick if os.environ.get("BENCH_QUICK") else default


def versioned(label: str, seq: int) -> str:
    return f"{label} v{seq}"


def _seq(value: str | None) -> int:
    _, _, tail = (value or "").rpartition(" v")
    return int(tail) if tail.isdigit() else -1


@dataclass
class Probe:
    target: str  # the simulator whose writes close edits: "jira" or "zoho_crm"
    read: Read
    pending: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def sent(self, item: str, seq: int, started: float) -> None:
        self.pending.setdefault(item, []).append((seq, started))

    def on_write(self, system: str, request: web.Request) -> None:
        if system != self.target:
            return
        now = time.perf_counter()
        for item in list(self.pending):
            arrived = _seq(self.read(item))
            waiting = self.pending[item]
            self.latencies.extend(now - t for seq, t in waiting if seq <= arrived)
            left = [(seq, t) for seq, t in waiting if seq > arrived]
            if left:
                self.pending[item] = left
            else:
                del self.pending[item]

    @property
    def missing(self) -> int:
        return sum(len(v) for v in self.pending.values())

    async def drained(self, limit: float) -> int:
        """Wait until every edit has arrived; the number still missing after ``limit`` s."""
        async def done() -> bool:
            return not self.pending

        with anyio.move_on_after(limit):
            await until(done)
        return self.missing


Edit = Callable[[str, int], Awaitable[None]]  # (item, seq): write versioned(seq) on item


async def drive(probe: Probe, items: list[str], edit: Edit, rate: float,
                duration: float) -> int:
    """Open loop: edit n (of item n mod len(items)) starts at n / rate seconds, whatever
    the earlier edits are doing. Returns the number of edits made."""
    count = int(rate * duration)
    start = time.perf_counter()

    async def one(seq: int) -> None:
        item = items[seq % len(items)]
        probe.sent(item, seq, time.perf_counter())
        await edit(item, seq)

    async with anyio.create_task_group() as group:
        for seq in range(count):
            await anyio.sleep(max(0.0, start + seq / rate - time.perf_counter()))
            group.start_soon(one, seq)
    return count


def quantiles(latencies: list[float], scale: float, prefix: str = "") -> Figures:
    if len(latencies) < 2:
        raise RuntimeError(f"only {len(latencies)} change(s) arrived: nothing to measure")
    cuts = statistics.quantiles(latencies, n=100)
    return {f"{prefix}p50": statistics.median(latencies) * scale,
            f"{prefix}p99": cuts[98] * scale, f"{prefix}max": max(latencies) * scale}
