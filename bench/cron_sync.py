"""The baseline: a deliberately naive "cron sync", the way hosted connectors and most
scripts work. Every ``interval`` seconds it lists everything on both sides, GETs each
linked issue and record, and PUTs each field that changed to the other side.

It is generous to itself: one job covers every pair (one listing per cycle, however many
SCIs), and it remembers the last values it saw instead of keeping a durable base.
"""

from __future__ import annotations

import time

import anyio

from adapters.jira.client import JiraClient
from adapters.zoho.crm import ZohoCrmClient
from bench.world import MODULE, Pair


class CronSync:
    def __init__(self, jira: JiraClient, crm: ZohoCrmClient, pairs: list[Pair],
                 interval: float) -> None:
        self.jira = jira
        self.crm = crm
        self.pairs = pairs
        self.interval = interval
        self.writes = 0
        self.cycles = 0
        self._last: dict[str, str] = {}  # record id → the summary both sides held

    async def run(self, stop: anyio.Event) -> None:
        """Cycle until ``stop`` is set (a cycle in progress finishes first)."""
        while not stop.is_set():
            started = time.monotonic()
            await self.cycle()
            with anyio.move_on_after(max(0.0, self.interval - (time.monotonic() - started))):
                await stop.wait()

    async def cycle(self) -> None:
        self.cycles += 1
        projects = sorted({pair.issue_key.partition("-")[0] for pair in self.pairs})
        async for _ in self.jira.search(f"project in ({', '.join(projects)})",
                                        fields=("summary",)):
            pass
        async for _ in self.crm.records(MODULE, ["Subject"]):
            pass
        for pair in self.pairs:
            await self._sync(pair)

    async def _sync(self, pair: Pair) -> None:
        issue = await self.jira.get_issue(pair.issue_key, fields=("summary",))
        record = await self.crm.record(MODULE, pair.record_id)
        if record is None:
            return
        in_jira, in_zoho = str(issue.fields["summary"]), str(record["Subject"])
        last = self._last.get(pair.record_id, in_jira)
        if in_jira == in_zoho:
            self._last[pair.record_id] = in_jira
        elif in_jira != last:  # Jira changed: Zoho follows (Jira wins a double change)
            await self.crm.update_one(MODULE, pair.record_id, {"Subject": in_jira})
            self._last[pair.record_id] = in_jira
            self.writes += 1
        else:
            await self.jira.edit_issue(pair.issue_key, {"summary": in_zoho})
            self._last[pair.record_id] = in_zoho
            self.writes += 1
