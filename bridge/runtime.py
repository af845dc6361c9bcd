"""What the running daemon holds: the current config, the store and the supervisor.

The HTTP layer and the daemon share this one object; a reload swaps ``config`` in place.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from actors.messages import InboxArrived, PollNow
from actors.supervisor import ActorState, Supervisor
from bridge.config import Config
from bridge.config import warnings as config_warnings
from bridge.connections import Connections
from bridge.engine.channels import ChannelRegistry
from bridge.sci import SciConfig
from bridge.store import Store


@dataclass
class Runtime:
    config: Config
    store: Store
    supervisor: Supervisor
    # Connection name → what is wrong with it (empty when usable); filled by the daemon.
    connection_problems: dict[str, str] = field(default_factory=dict)
    # Re-probes every connection and refreshes ``connection_problems``; set by the daemon.
    recheck_connections: Callable[[], Awaitable[None]] | None = None
    # The daemon's current shared clients (a reload swaps them); set by the daemon.
    connections: Callable[[], Connections] | None = None
    migrations_done: bool = False
    channels: ChannelRegistry = field(default_factory=ChannelRegistry)
    # SCI id → why its engine cannot sync yet (empty when syncing); written by the engines.
    sci_problems: dict[str, str] = field(default_factory=dict)
    # SCIs made in the admin UI or API (kept in the store), by id.
    managed: dict[str, SciConfig] = field(default_factory=dict)
    # Starts, restarts and stops actors to match ``scis``; set by the daemon.
    apply_scis: Callable[[], Awaitable[object]] | None = None
    # The Jira webhook registration as the daemon last left it (shown on Connections).
    webhook: str = "not registered yet"
    # Zoho connections set up in the admin UI (kept in the store, not the config file).
    ui_connections: set[str] = field(default_factory=set)
    # Re-reads those connections, rebuilds the clients and restarts what uses them.
    apply_connections: Callable[[], Awaitable[object]] | None = None

    @property
    def scis(self) -> list[SciConfig]:
        """Every SCI this daemon runs: the config file's, then those made in the UI (an id
        declared in the config file always means the config file's SCI)."""
        declared = {sci.id for sci in self.config.sci}
        return [*self.config.sci,
                *(sci for sci in self.managed.values() if sci.id not in declared)]

    def webhook_secret(self) -> str:
        jira = self.config.jira
        return jira.webhook_secret if jira else ""

    def per_user(self, sci: SciConfig) -> bool:
        """Zoho CRM in Providers mode: the panel acts with each viewer's own Zoho sign-in,
        and no background automation runs (the SCI gets no actor)."""
        return sci.zoho.system == "crm" and self.config.zoho.crm_providers

    def wake(self, sci_id: str, reason: str, records: tuple[str, ...] = ()) -> bool:
        """Ask an SCI to poll now (a Zoho change notification, a manual sync); ``records``:
        those the notice names, each linked one getting a pass."""
        return self.supervisor.offer(sci_id, PollNow(reason, sent_at=time.time(),
                                                     records=records))

    def notify_actors(self, event_id: int, sci_ids: list[str]) -> None:
        """Wake the actors; a full mailbox is fine, the event is already in the inbox."""
        for sci_id in sci_ids:
            self.supervisor.offer(sci_id, InboxArrived(event_id))

    async def readiness_problems(self) -> list[str]:
        problems: list[str] = []
        if not self.migrations_done:
            problems.append("store: migrations not applied yet")
        try:
            await self.store.ping()
        except Exception as exc:
            problems.append(f"store: {exc}")
        problems.extend(
            f"connection {name}: {problem}"
            for name, problem in sorted(self.connection_problems.items())
            if problem
        )
        running = {sci.id for sci in self.scis if sci.enabled}
        problems.extend(f"sci {sci_id}: {problem}"
                        for sci_id, problem in sorted(self.sci_problems.items())
                        if problem and sci_id in running)
        problems.extend(
            f"sci {actor.id}: failed ({actor.last_error}); fix the cause, then reload to retry"
            for actor in self.supervisor.snapshot()
            if actor.state == ActorState.FAILED.value
        )
        problems.extend(config_warnings(self.config))
        return problems
