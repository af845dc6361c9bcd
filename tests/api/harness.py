"""An admin-ready daemon core in-process: store, supervised SCI actors, the simulators as its
connections, seeded history and dead letters. Shared by the API, browser and CLI tests."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import aiohttp
import anyio
import msgspec
from aiohttp import web
from argon2 import PasswordHasher
from cryptography.fernet import Fernet

from actors.supervisor import Supervisor
from bridge.config import Config
from bridge.connections import Connections, with_stored_zoho
from bridge.daemon import actor_plan, save_scis, secret_box
from bridge.http.app import build_app
from bridge.runtime import Runtime
from bridge.sandbox import Sandbox, simulators
from bridge.store import OutboxDraft, SqliteStore, Store, SyncEntry
from bridge.sync import intents
from bridge.sync.intents import WriteLinkNote

ADMIN = ("ada", "correct horse battery staple")
USER = ("uma", "a different long password")
# Cheap parameters keep the tests fast; verification reads them from the hash itself.
_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
HASHES = {name: _HASHER.hash(password) for name, password in (ADMIN, USER)}

SCIS: list[dict[str, Any]] = [
    {"id": "support-cases", "name": "Support tasks ⇄ CRM cases", "mode": "two_way",
     "jira_projects": ["SUP"], "jira_issue_type": "Task",
     "zoho": {"system": "crm", "module": "Cases"},
     "mappings": [{"jira": "summary", "zoho": "Subject"},
                  {"jira": "priority", "zoho": "Priority"}],
     "status_sync": True, "status_field": "Status", "comments": True, "attachments": True,
     "rule": {"field": "Status", "operator": "equals", "value": "Escalated",
              "status_when_met": "In Progress", "status_when_not_met": "To Do"}},
    {"id": "engineering-deals", "name": "Engineering ⇄ Deals", "mode": "display",
     "jira_projects": ["ENG"], "zoho": {"system": "crm", "module": "Deals"},
     "preview_fields": ["Deal_Name", "Stage", "Amount"], "associated_records": True},
    # Disabled, so no actor retries its dead letters while a test looks at them.
    {"id": "legacy-invoices", "name": "Legacy invoices", "mode": "one_way", "enabled": False,
     "jira_projects": ["SUP"], "jira_issue_type": "Bug",
     "zoho": {"system": "crm", "module": "Invoices"}},
]


def build_config(tmp_path: Path, sims: dict[str, Any], *, zoho_crm: bool = True,
                 projects: bool = False, **ui: Any) -> Config:
    """The daemon's config over the simulators; Zoho Projects only when asked for, Zoho CRM
    unless ``zoho_crm=False`` (then it is left to be connected in the UI)."""
    jira, zoho = sims["jira"], sims["zoho"]
    crm = {"data_center": "EU", "client_id": zoho["client_id"],
           "client_secret": zoho["client_secret"], "refresh_token": zoho["refresh_token"],
           "accounts_url": zoho["accounts_url"]}
    raw = {
        "store": {"path": str(tmp_path / "bridge.db")},
        "jira": {"site_url": jira["base_url"], "email": jira["email"],
                 "api_token": jira["api_token"], "webhook_secret": "hook-secret"},
        "zoho": {**({"crm": {**crm, "api_url": zoho["crm_api_url"]}} if zoho_crm else {}),
                 **({"projects": {**crm, "api_url": zoho["projects_api_url"]}}
                    if projects else {})},
        "ui": {"session_key": Fernet.generate_key().decode(),
               "user": [{"name": ADMIN[0], "password_hash": HASHES[ADMIN[0]], "role": "admin"},
                        {"name": USER[0], "password_hash": HASHES[USER[0]], "role": "user"}],
               **ui},
        "sci": SCIS,
    }
    return msgspec.convert(raw, Config)


async def seed(store: Store, dead_letters_of: str = "support-cases") -> None:
    """History in both directions (one with an error) and two dead letters."""
    now = time.time()
    entries: list[tuple[Literal["jira_to_zoho", "zoho_to_jira"], int, int, str]] = [
        ("jira_to_zoho", 3, 0, "jira:issue_updated SUP-1: summary Printer jam → Printer fixed"),
        ("zoho_to_jira", 2, 0, "timer: 2 records changed in Zoho"),
        ("jira_to_zoho", 0, 1, "jira:issue_updated SUP-4: Zoho refused Priority 'Urgent'"),
    ]
    for offset, (direction, changes, errors, summary) in enumerate(entries):
        started = now - 600 + offset * 120
        await store.record_sync(SyncEntry(
            sci_id="support-cases", direction=direction, started_at=started,
            finished_at=started + 0.2, changes=changes, errors=errors, summary=summary))
    for key, reason in (("k-note", "Zoho CRM 400 INVALID_DATA: Note_Content too long"),
                        ("k-status", "Jira 400: no transition from Done to Open")):
        note = WriteLinkNote(record_id="5725767000000412001", link_id="l1", jira_key="SUP-1",
                             jira_id="10001", origin="manual", reason="link created")
        draft = OutboxDraft(sci_id=dead_letters_of, idempotency_key=key,
                            operation="WriteLinkNote", payload=intents.encode(note),
                            item="link:l1")
        assert await store.outbox_put(draft)
        (item,) = [i for i in await store.outbox_due(dead_letters_of, now + 1) if
                   i.idempotency_key == key]
        for attempt in range(5):
            await store.outbox_retry(item.id, now + 2**attempt, reason)
        await store.outbox_dead(item.id, reason)


@asynccontextmanager
async def running(tmp_path: Path, sims: dict[str, Any] | None = None, *,
                  zoho_crm: bool = True, projects: bool = False,
                  **ui: Any) -> AsyncIterator[Runtime]:
    """The daemon's parts, wired as ``Daemon.serve`` wires them, with actors running.
    ``sims`` (when given) receives the simulators' description."""
    sandbox = Sandbox(simulators())
    await sandbox.start()
    described = sandbox.description()
    if sims is not None:
        sims.update(described)
    config = build_config(tmp_path, described, zoho_crm=zoho_crm, projects=projects, **ui)
    store = SqliteStore(config.database_path(), secret_box(config))
    await store.open()
    runtime = Runtime(config=config, store=store, supervisor=Supervisor(),
                      migrations_done=True)
    try:
        async with aiohttp.ClientSession() as session, anyio.create_task_group() as group:
            async def recheck() -> None:
                connections = Connections.from_config(config, session, store)
                await connections.prepare()
                runtime.connection_problems = await connections.problems(config)

            runtime.recheck_connections = recheck
            connections = Connections.from_config(config, session, store)
            await connections.prepare()
            runtime.connections = lambda: connections
            await group.start(runtime.supervisor.run)
            await save_scis(store, config)
            await seed(store, dead_letters_of="legacy-invoices")
            async def apply_scis() -> list[str]:
                return await runtime.supervisor.reconcile(
                    actor_plan(runtime, lambda: connections), 5)

            async def apply_connections() -> list[str]:
                nonlocal connections
                runtime.config, runtime.ui_connections = await with_stored_zoho(config, store)
                connections = Connections.from_config(runtime.config, session, store)
                await connections.prepare()
                runtime.connection_problems = await connections.problems(runtime.config)
                return await apply_scis()

            runtime.apply_scis = apply_scis
            runtime.apply_connections = apply_connections
            await apply_scis()
            try:
                yield runtime
            finally:
                await runtime.supervisor.shutdown(5)
    finally:
        await store.close()
        await sandbox.stop()


class LiveServer:
    """The admin app on a real loopback port, served from its own thread and event loop
    (for clients that block: the browser driver and the OpenAPI fuzzer)."""

    def __init__(self, tmp_path: Path, *, zoho_crm: bool = True) -> None:
        self._tmp_path = tmp_path
        self._zoho_crm = zoho_crm
        self._ready = threading.Event()
        self._stop: anyio.Event | None = None
        self._portal: Any = None
        self._thread = threading.Thread(target=anyio.run, args=(self._serve,), daemon=True)
        self.url = ""
        self.runtime: Runtime | None = None
        self.sims: dict[str, Any] = {}  # the simulators' description (URLs, credentials)
        self.error: BaseException | None = None

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(30) or self.error is not None:
            raise RuntimeError(f"admin server did not start: {self.error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._portal is not None and self._stop is not None:
            self._portal.call(self._stop.set)
        self._thread.join(30)

    def call(self, func: Any, *args: Any) -> Any:
        """Run ``await func(*args)`` on the server's loop (e.g. to read the store)."""
        return self._portal.call(func, *args)

    async def _serve(self) -> None:
        try:
            async with running(self._tmp_path, self.sims, zoho_crm=self._zoho_crm) \
                    as runtime, anyio.from_thread.BlockingPortal() as portal:
                runner = web.AppRunner(build_app(runtime), access_log=None, handle_signals=False)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                host, port = runner.addresses[0][:2]
                self.url, self.runtime, self._portal = f"http://{host}:{port}", runtime, portal
                self._stop = anyio.Event()
                self._ready.set()
                await self._stop.wait()
                await runner.cleanup()
        except BaseException as exc:
            self.error = exc
            self._ready.set()
            raise
