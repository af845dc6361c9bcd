"""What the sync benchmarks share: the simulators on loopback with a call tally, the
people's own clients that make changes, linked pairs seeded on both sides, and the real
daemon as a separate process configured through its TOML file.

Calls are counted on the simulators' side. Requests the benchmark itself makes (the
people editing Jira and Zoho, seeding, checking) carry ``DRIVER_HEADER`` and are not
counted, so the tally holds only what the system under test spent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import anyio
from aiohttp import web
from aiohttp.typedefs import Middleware
from anyio.abc import Process

from adapters.jira.client import JiraClient
from adapters.jira.simulator import JiraSimulator
from adapters.jira.simulator.context import Limits
from adapters.simulation import CONTROL_PREFIX, Handler
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.oauth import MemoryTokenStore, ZohoOAuth
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.common import RequestLimits
from adapters.zoho.simulator.crm import ZohoCrmSimulator
from bridge.engine import state as link_state
from bridge.engine.state import LinkState
from bridge.sandbox import Sandbox, Served
from bridge.secretbox import SecretBox
from bridge.store import Link, SqliteStore, UnitOfWork
from bridge.sync.model import Base

DRIVER_HEADER = "X-Bench-Driver"
PROJECT = "SUP"
MODULE = "Cases"
# Generous limits: the benchmarks measure the bridge, not the simulated quotas. Zoho CRM's
# per-org concurrency limit (10) is kept; the daily credits are raised for long runs.
JIRA_LIMITS = Limits(rate=5000.0, burst=5000.0, issue_writes=1000)
CRM_CREDITS = 10_000_000
READ_POSTS = ("/search", "/search/jql", "/coql")
START_TIMEOUT = 120.0  # 100 SCIs read their metadata before the daemon is ready
WriteHook = Callable[[str, web.Request], None]


DRIVING: ContextVar[bool] = ContextVar("bench_driving", default=False)


class BridgeLimits(Limits):
    """Jira's rate limits are per account: the people's requests (``DRIVER_HEADER``) do not
    spend the bridge's."""

    def take(self) -> dict[str, str]:
        return {} if DRIVING.get() else super().take()


@dataclass
class Tally:
    """API calls by system and kind ("read": GET or a query POST; "write": anything else),
    429 answers by system, and hooks told of every accepted write."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    limited: Counter[str] = field(default_factory=Counter)
    write_hooks: list[WriteHook] = field(default_factory=list)

    def middleware(self, system: str) -> Middleware:
        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            if DRIVER_HEADER in request.headers:
                driving = DRIVING.set(True)
                try:
                    return await handler(request)
                finally:
                    DRIVING.reset(driving)
            response = await handler(request)
            if request.path.startswith(CONTROL_PREFIX):
                return response
            kind = "read" if _reads(request) else "write"
            self.calls[(system, kind)] += 1
            if response.status == 429:
                self.limited[system] += 1
            elif kind == "write" and response.status < 300:
                for hook in self.write_hooks:
                    hook(system, request)
            return response

        return count

    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
        self.limited.clear()


def _reads(request: web.Request) -> bool:
    """GET, or a POST that only queries (Jira's JQL search, Zoho's COQL)."""
    return request.method == "GET" or request.path.endswith(READ_POSTS)


def _counted(app: Callable[[], web.Application], tally: Tally,
             system: str) -> Callable[[], web.Application]:
    def build() -> web.Application:
        built = app()
        built.middlewares.insert(0, tally.middleware(system))
        return built

    return build


@dataclass
class People:
    """The benchmark's own clients: the people who edit Jira and Zoho."""

    jira: JiraClient
    crm: ZohoCrmClient
    session: aiohttp.ClientSession


@dataclass
class Simulators:
    jira: JiraSimulator
    accounts: ZohoAccountsSimulator
    crm: ZohoCrmSimulator
    urls: dict[str, str]
    tally: Tally
    people: People


@asynccontextmanager
async def simulators(jira_limits: Limits = JIRA_LIMITS) -> AsyncIterator[Simulators]:
    """Jira, Zoho accounts and Zoho CRM simulators on free loopback ports."""
    tally = Tally()
    jira = JiraSimulator(limits=jira_limits)
    accounts = ZohoAccountsSimulator()
    crm = ZohoCrmSimulator(accounts, seed=False, limits=RequestLimits(credits=CRM_CREDITS))
    sandbox = Sandbox([
        Served("jira", _counted(jira.app, tally, "jira"), lambda _: {}),
        Served("accounts", accounts.app, lambda _: {}),
        Served("crm", _counted(crm.app, tally, "zoho_crm"), lambda _: {}),
    ])
    await sandbox.start()
    accounts.api_domain = sandbox.urls["crm"]
    try:
        async with aiohttp.ClientSession(headers={DRIVER_HEADER: "1"}) as session:
            jira_client, crm_client = await connect(jira, accounts, sandbox.urls, session)
            people = People(jira_client, crm_client, session)
            yield Simulators(jira, accounts, crm, sandbox.urls, tally, people)
    finally:
        await sandbox.stop()


async def connect(jira: JiraSimulator, accounts: ZohoAccountsSimulator, urls: dict[str, str],
                  session: aiohttp.ClientSession) -> tuple[JiraClient, ZohoCrmClient]:
    """A Jira and a Zoho CRM client on ``session`` (its headers decide who is counted)."""
    oauth = ZohoOAuth("bench", client_id=accounts.client_id,
                      client_secret=accounts.client_secret, accounts_url=urls["accounts"],
                      session=session, store=MemoryTokenStore())
    await oauth.use_refresh_token(accounts.issue_refresh_token())
    return (JiraClient.basic(urls["jira"], jira.ctx.email, jira.ctx.api_token, session),
            ZohoCrmClient.connect(urls["crm"], oauth, session))


def subject(sims: Simulators, record_id: str) -> str:
    """A case's subject as the CRM simulator holds it now."""
    record = sims.crm.store.find(MODULE, record_id)
    if record is None:
        raise RuntimeError(f"case {record_id} is gone")
    return str(record["Subject"])


# -- linked pairs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    issue_id: str
    issue_key: str
    record_id: str


async def make_pairs(people: People, count: int, tag: str = "item",
                     project: str = PROJECT) -> list[Pair]:
    """``count`` Jira issues (in ``project``) and CRM cases with the same summary, created
    in bulk."""
    subjects = [f"{tag} {n}" for n in range(count)]
    records = []
    for offset in range(0, count, 100):
        chunk = [{"Subject": s, "Status": "New"} for s in subjects[offset:offset + 100]]
        records.extend(await people.crm.insert(MODULE, chunk))
    issues = await people.jira.create_issues([
        {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": s}
        for s in subjects])
    if issues.failed or any(not r.ok for r in records):
        raise RuntimeError(f"seeding failed: {issues.failed[:3]} {records[:3]}")
    return [Pair(i.id, i.key, str(r.id)) for i, r in zip(issues.created, records, strict=True)]


async def link_pairs(db: Path, pairs: dict[str, list[Pair]], summaries: dict[str, str],
                     cursors: Mapping[str, str] | None = None) -> None:
    """Write the links (and what both sides agree on) into the daemon's store, as manual
    linking would; ``summaries``: record id → the summary both sides hold now. ``cursors``
    (poll cursor name → value) are set for every SCI, as a daemon that ran before left them."""
    store = SqliteStore(db, SecretBox(SecretBox.generate_key()))
    await store.open()
    now = time.time()
    try:
        for sci_id, items in pairs.items():
            if cursors:
                await store.commit(UnitOfWork(sci_id=sci_id, cursors=cursors))
            for offset in range(0, len(items), 500):
                links = [Link(id=uuid.uuid4().hex, sci_id=sci_id, jira_issue_id=p.issue_id,
                              jira_issue_key=p.issue_key, zoho_record_id=p.record_id,
                              origin="manual", created_at=now)
                         for p in items[offset:offset + 500]]
                states = {link.id: link_state.dump(LinkState(
                    base=Base(fields={"summary": summaries[link.zoho_record_id]}),
                    synced_at=now)) for link in links}
                await store.commit(UnitOfWork(sci_id=sci_id, new_links=links, states=states))
    finally:
        await store.close()


# -- the daemon under test ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


NO_LINK_NOTE = "link_note = false\n"


def sci_toml(sci_id: str, project: str, poll_interval: float, module: str = MODULE,
             options: str = NO_LINK_NOTE) -> str:
    """One ``[[sci]]`` table; ``options``: further TOML lines for it."""
    return (f'[[sci]]\nid = "{sci_id}"\nname = "{sci_id}"\nmode = "two_way"\n'
            f'jira_projects = ["{project}"]\njira_issue_type = "Task"\n'
            f'zoho = {{ system = "crm", module = "{module}" }}\n'
            f'poll_interval = {poll_interval}\n{options}'
            f'mappings = [ {{ jira = "summary", zoho = "Subject" }} ]\n')


@dataclass
class DaemonProcess:
    """``bridge run`` in its own process; ``BENCH_PROFILE=1`` runs it under pyinstrument
    and writes the profile to ``var/bench/<name>.profile.txt``."""

    workdir: Path
    sims: Simulators
    scis: dict[str, str]  # SCI id → its Jira project
    poll_interval: float = 30.0
    modules: dict[str, str] = field(default_factory=dict)  # SCI id → CRM module, else MODULE
    notifications: bool = True
    profile_name: str = ""
    jira_rate: float = 1000.0  # the daemon's Jira budget, requests/s
    sci_options: str = NO_LINK_NOTE
    port: int = field(default_factory=free_port)
    proc: Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Path:
        return self.workdir / "bridge.db"

    def config(self) -> str:
        sims, urls = self.sims, self.sims.urls
        accounts = sims.accounts
        public = f'public_url = "{self.base}"\n' if self.notifications else ""
        return (
            f'[http]\nport = {self.port}\n[store]\npath = "{self.db}"\n'
            f'[daemon]\ndrain_timeout = 10.0\nlog_level = "warning"\n{public}'
            f'[jira]\nsite_url = "{urls["jira"]}"\nemail = "{sims.jira.ctx.email}"\n'
            f'api_token = "{sims.jira.ctx.api_token}"\n'
            f'webhook_secret = "{sims.jira.webhook_secret}"\n'
            f'requests_per_second = {self.jira_rate}\n'
            f'[zoho.crm]\nclient_id = "{accounts.client_id}"\n'
            f'client_secret = "{accounts.client_secret}"\naccounts_url = "{urls["accounts"]}"\n'
            f'refresh_token = "{accounts.issue_refresh_token()}"\napi_url = "{urls["crm"]}"\n'
            f'requests_per_second = 1000\n'
            + "".join(sci_toml(sci, project, self.poll_interval, self.modules.get(sci, MODULE),
                               self.sci_options)
                      for sci, project in self.scis.items()))

    def _command(self, config: Path) -> list[str]:
        run = ["-m", "bridge", "run", "--config", str(config)]
        if not (self.profile_name and os.environ.get("BENCH_PROFILE")):
            return [sys.executable, *run]
        out = Path("var/bench").resolve() / f"{self.profile_name}.profile.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        return [sys.executable, "-m", "pyinstrument", "-o", str(out), *run]

    async def start(self, session: aiohttp.ClientSession) -> None:
        config = self.workdir / "bridge.toml"
        config.write_text(self.config())
        with (self.workdir / "daemon.log").open("ab") as log:
            self.proc = await anyio.open_process(self._command(config), stdout=log,
                                                 stderr=subprocess.STDOUT)
        process = self.proc

        async def ready() -> bool:
            if process.returncode is not None:
                raise RuntimeError(f"daemon exited: {self.log_tail()}")
            return await self._ready(session)

        with anyio.fail_after(START_TIMEOUT):
            await until(ready)

    async def _ready(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.base}/readyz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def log_tail(self) -> str:
        return (self.workdir / "daemon.log").read_text(errors="replace")[-3000:]

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        with anyio.CancelScope(shield=True), anyio.fail_after(60):  # also when interrupted
            await self.proc.wait()


async def until(check: Callable[[], Awaitable[bool]], every: float = 0.05) -> None:
    """Poll ``check`` until it is true (callers bound the wait with ``anyio.fail_after``)."""
    while True:
        if await check():
            return
        await anyio.sleep(every)


@asynccontextmanager
async def running(daemon: DaemonProcess) -> AsyncIterator[DaemonProcess]:
    try:
        await daemon.start(daemon.sims.people.session)
        yield daemon
    finally:
        await daemon.stop()
