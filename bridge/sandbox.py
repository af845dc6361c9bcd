"""Serve the simulators on loopback ports for people, scripts and official client libraries.

Once every simulator accepts connections, exactly one line of JSON goes to stdout
describing how to reach and authenticate against each; then it serves until SIGTERM or
SIGINT and exits 0.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import anyio
from aiohttp import web

if TYPE_CHECKING:
    from adapters.jira.simulator import JiraSimulator
    from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
    from adapters.zoho.simulator.crm import ZohoCrmSimulator
    from adapters.zoho.simulator.projects import ZohoProjectsSimulator


@dataclass(frozen=True)
class Served:
    """One simulator app to serve; ``describe(base_url)`` gives its part of the JSON line."""

    name: str
    app: Callable[[], web.Application]
    describe: Callable[[str], dict[str, Any]]


class Sandbox:
    def __init__(self, served: list[Served], host: str = "127.0.0.1", port: int = 0) -> None:
        self._served = served
        self._host = host
        self._port = port
        self._runners: list[web.AppRunner] = []
        self.urls: dict[str, str] = {}

    def add(self, item: Served) -> None:
        """Serve one more app, on the port after the others; before ``start``."""
        self._served.append(item)

    async def start(self) -> None:
        """Bind each simulator: consecutive ports from ``port``, or free ports when 0."""
        for offset, item in enumerate(self._served):
            runner = web.AppRunner(item.app(), access_log=None, handle_signals=False)
            await runner.setup()
            port = self._port + offset if self._port else 0
            await web.TCPSite(runner, self._host, port).start()
            self._runners.append(runner)
            host, bound = runner.addresses[0][:2]
            self.urls[item.name] = f"http://{host}:{bound}"

    async def stop(self) -> None:
        with anyio.CancelScope(shield=True):
            for runner in reversed(self._runners):
                await runner.cleanup()
        self._runners.clear()

    def description(self) -> dict[str, Any]:
        """Merge each simulator's description; nested dicts (e.g. "zoho") are combined."""
        merged: dict[str, Any] = {}
        for item in self._served:
            for key, value in item.describe(self.urls[item.name]).items():
                if isinstance(value, dict):
                    merged.setdefault(key, {}).update(value)
                else:
                    merged[key] = value
        return merged


@dataclass(frozen=True)
class Simulators:
    """The four simulators as objects, for callers that also drive their state."""

    jira: JiraSimulator
    accounts: ZohoAccountsSimulator
    crm: ZohoCrmSimulator
    projects: ZohoProjectsSimulator

    @classmethod
    def create(cls) -> Simulators:
        from adapters.jira.simulator import JiraSimulator
        from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
        from adapters.zoho.simulator.crm import ZohoCrmSimulator
        from adapters.zoho.simulator.projects import ZohoProjectsSimulator

        accounts = ZohoAccountsSimulator()
        return cls(JiraSimulator(), accounts, ZohoCrmSimulator(accounts),
                   ZohoProjectsSimulator(accounts.is_valid_access_token,
                                         scopes_for=accounts.scopes_for))

    def served(self) -> list[Served]:
        """In port order: Jira, Zoho accounts, CRM, Projects."""
        accounts, crm, projects = self.accounts, self.crm, self.projects

        def describe_crm(base_url: str) -> dict[str, Any]:
            accounts.api_domain = base_url  # token answers point clients at this simulator
            return crm.sandbox_info(base_url)

        return [
            Served("jira", self.jira.app, self.jira.sandbox_info),
            Served("zoho_accounts", accounts.app,
                   lambda base_url: {"zoho": {"accounts_url": base_url}}),
            Served("zoho_crm", crm.app, describe_crm),
            Served("zoho_projects", projects.app,
                   lambda base_url: {"zoho": projects.sandbox_info(base_url)}),
        ]


def simulators() -> list[Served]:
    """Every simulator the sandbox serves, in port order: Jira, Zoho accounts, CRM, Projects."""
    return Simulators.create().served()


async def serve(sandbox: Sandbox, out: TextIO = sys.stdout) -> int:
    await sandbox.start()
    try:
        out.write(json.dumps(sandbox.description()) + "\n")
        out.flush()
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                break
    finally:
        await sandbox.stop()
    return 0
