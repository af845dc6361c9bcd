"""What the running daemon holds: the current config, the store and the supervisor.

The HTTP layer and the daemon share this one object; a reload swaps ``config`` in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.messages import InboxArrived
from actors.supervisor import ActorState, Supervisor
from bridge.config import Config
from bridge.config import warnings as config_warnings
from bridge.store import Store


@dataclass
class Runtime:
    config: Config
    store: Store
    supervisor: Supervisor
    # Connection name → what is wrong with it (empty when usable); filled by the daemon.
    connection_problems: dict[str, str] = field(default_factory=dict)
    migrations_done: bool = False

    def webhook_secret(self) -> str:
        jira = self.config.jira
        return jira.webhook_secret if jira else ""

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
        problems.extend(
            f"sci {actor.id}: failed ({actor.last_error}); fix the cause, then reload to retry"
            for actor in self.supervisor.snapshot()
            if actor.state == ActorState.FAILED.value
        )
        problems.extend(config_warnings(self.config))
        return problems
