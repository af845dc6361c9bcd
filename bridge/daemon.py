"""Daemon lifecycle: open the store, start actors and the HTTP server, serve signals.

Start-up order: store (migrations) → supervisor + one actor per enabled SCI → HTTP
listener → READY=1 → connections set up and probed → engines woken (until then events
wait durably in the inbox). Shutdown reverses it within one budget, ``daemon.drain_timeout``:
stop accepting HTTP and finish requests in flight, drain actors (pending work is durable),
close the store, exit 0. A start the environment does not allow raises ``StartupError``.
SIGHUP re-reads the config: actors whose SCI changed restart, the others keep running.
"""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import anyio
import msgspec
import structlog
from aiohttp import web

from actors.backoff import Backoff
from actors.messages import PollNow
from actors.sci import SciActor
from actors.supervisor import ActorFactory, RestartPolicy, Supervisor
from adapters.http import RemoteError
from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge.config import Config, ConfigError
from bridge.connections import Connections, configured, with_stored_zoho
from bridge.engine.wiring import engine_for, fingerprint
from bridge.http.app import build_app, server_options
from bridge.http.metrics import register_actor_metrics, register_connection_metrics
from bridge.runtime import Runtime
from bridge.sci import SciConfig
from bridge.startup import (
    cannot_listen,
    check_port,
    open_store,
    secret_box,
    startup_error_in,
)
from bridge.store import SciRecord, SqliteStore, Store
from bridge.store.base import SCI_DELETED
from bridge.sync import keys
from bridge.systemd import Notifier

log = structlog.get_logger("bridge.daemon")

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
CONNECTION_CHECK_INTERVAL = 60.0
PRUNE_INTERVAL = 6 * 3600.0
HTTP_SHARE_OF_DRAIN = 0.25


def restart_policy(config: Config) -> RestartPolicy:
    sup = config.supervisor
    return RestartPolicy(
        max_restarts=sup.max_restarts,
        within=sup.restart_window,
        backoff=Backoff(base=sup.backoff_base, cap=sup.backoff_cap),
    )


def actor_plan(
    runtime: Runtime, connections: Callable[[], Connections]
) -> dict[str, tuple[str, ActorFactory]]:
    """{sci id: (fingerprint, factory)} for every enabled SCI; a restart builds a fresh
    engine from config and store."""
    config = runtime.config

    def factory(sci: SciConfig) -> ActorFactory:
        return lambda: SciActor(engine_for(sci, config, runtime.store, connections,
                                           runtime.channels, runtime.sci_problems))

    return {
        sci.id: (fingerprint(sci, config), factory(sci))
        for sci in runtime.scis
        if sci.enabled and not runtime.per_user(sci)
    }


async def save_scis(store: Store, config: Config) -> None:
    """Declarative SCIs from the config file are mirrored into the store."""
    for sci in config.sci:
        await store.put_sci(
            SciRecord(
                id=sci.id, name=sci.name, kind=sci.zoho.system,
                definition=msgspec.json.encode(sci), enabled=sci.enabled,
            )
        )


async def managed_scis(store: Store) -> dict[str, SciConfig]:
    """The SCIs made in the admin UI or API; one this version cannot read is logged and
    left out (the SCI list shows it with the reason)."""
    found: dict[str, SciConfig] = {}
    for record in await store.list_scis():
        if record.origin != "ui" or record.status == SCI_DELETED:
            continue
        try:
            found[record.id] = msgspec.json.decode(record.definition, type=SciConfig)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.error("sci.unreadable", sci_id=record.id, error=str(exc))
    return found


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: Config,
        *,
        notifier: Notifier | None = None,
        load: Callable[[Path], Config] = config_module.load,
    ) -> None:
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self._load = load
        store = SqliteStore(config.database_path(), secret_box(config))
        supervisor = Supervisor(
            restart_policy(config), mailbox_size=config.supervisor.mailbox_size
        )
        self.runtime = Runtime(config=config, store=store, supervisor=supervisor)
        self._file_config = config  # the config file's own, before the UI's connections
        self.connections = Connections()
        self._session: aiohttp.ClientSession | None = None

    async def serve(self) -> int:
        runtime = self.runtime
        await open_store(runtime.store, runtime.config)
        runtime.migrations_done = True
        await self._adopt()
        # Not ready until each configured connection has answered its first probe.
        runtime.connection_problems = {name: "not checked yet"
                                       for name in configured(runtime.config)}
        unregister = register_actor_metrics(runtime.supervisor.snapshot)
        unregister_connections = register_connection_metrics(
            lambda: runtime.connection_problems)
        try:
            await save_scis(runtime.store, runtime.config)
            runtime.managed = await managed_scis(runtime.store)
            runtime.apply_scis = self._apply_scis
            runtime.apply_connections = self._apply_connections
            # Signals are caught before READY=1, so an early SIGHUP/SIGTERM is never fatal.
            with anyio.open_signal_receiver(*HANDLED_SIGNALS) as signals:
                async with aiohttp.ClientSession(timeout=CLIENT_TIMEOUT) as session, \
                        anyio.create_task_group() as group:
                    self._session = session
                    self.connections = Connections.from_config(runtime.config, session,
                                                               runtime.store)
                    runtime.recheck_connections = self._check_connections
                    runtime.connections = lambda: self.connections
                    await group.start(runtime.supervisor.run)
                    await self._reconcile()
                    runner, address = await self._listen()
                    self.notifier.ready(f"listening on {address}")
                    log.info("daemon.ready", address=address, scis=len(runtime.scis))
                    if self.notifier.watchdog_interval:
                        group.start_soon(self._watchdog, self.notifier.watchdog_interval)
                    group.start_soon(self._watch_connections)
                    group.start_soon(self._prune)
                    await self._serve_signals(signals)
                    self.notifier.stopping()
                    await self._shutdown(runner)
                    group.cancel_scope.cancel()
        finally:
            unregister()
            unregister_connections()
            with anyio.CancelScope(shield=True):
                await runtime.store.close()
        log.info("daemon.stopped")
        return 0

    async def _listen(self) -> tuple[web.AppRunner, str]:
        http = self.runtime.config.http
        runner = web.AppRunner(build_app(self.runtime), **server_options(http),
                               shutdown_timeout=http_shutdown_timeout(self.runtime.config))
        await runner.setup()
        try:
            await web.TCPSite(runner, http.host, http.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise cannot_listen(http, exc) from None
        host, port = runner.addresses[0][:2]
        return runner, f"http://{host}:{port}"

    async def _serve_signals(self, signals: AsyncIterator[int]) -> None:
        async for signum in signals:
            if signum != signal.SIGHUP:
                log.info("daemon.stopping", signal=signal.Signals(signum).name)
                return
            await self.reload()

    async def reload(self) -> None:
        """Re-read config; restart only the actors whose SCI changed."""
        self.notifier.reloading()
        try:
            fresh = self._load(self.config_path)
        except ConfigError as exc:
            log.error("config.reload_rejected", error=str(exc))
            self.notifier.ready("reload rejected: keeping the previous configuration")
            return
        self._file_config = fresh
        await save_scis(self.runtime.store, fresh)
        restarted = await self._apply_connections()
        log.info("config.reloaded", restarted=restarted)
        self.notifier.ready(f"reloaded; restarted {len(restarted)} actor(s)")

    async def _adopt(self) -> None:
        """Run with the config file's settings plus the Zoho connections set up in the UI."""
        self.runtime.config, self.runtime.ui_connections = await with_stored_zoho(
            self._file_config, self.runtime.store)

    async def _apply_connections(self) -> list[str]:
        """Credentials changed (a reload, a connection made or revoked in the UI): rebuild
        the clients, probe them, and restart the actors whose connection changed."""
        await self._adopt()
        if self._session is not None:
            self.connections = Connections.from_config(self.runtime.config, self._session,
                                                       self.runtime.store)
            await self._check_connections()
        return await self._apply_scis()

    async def _apply_scis(self) -> list[str]:
        """After an SCI was made, changed or deleted in the UI: actors and webhook follow."""
        restarted = await self._reconcile()
        await self._register_webhook()
        return restarted

    async def _reconcile(self) -> list[str]:
        runtime = self.runtime
        plan = actor_plan(runtime, lambda: self.connections)
        return await runtime.supervisor.reconcile(plan, runtime.config.daemon.drain_timeout)

    async def _shutdown(self, runner: web.AppRunner) -> None:
        """Everything within ``daemon.drain_timeout``: requests in flight, then actors."""
        deadline = anyio.current_time() + self.runtime.config.daemon.drain_timeout
        with anyio.CancelScope(shield=True):
            await runner.cleanup()  # stops accepting, lets in-flight requests finish
            await self.runtime.supervisor.shutdown(max(0.0, deadline - anyio.current_time()))

    async def _watch_connections(self) -> None:
        """Probe connections now and then; readiness reflects the latest answer. Engines
        wait for the first set-up (a grant code is exchanged only once), then are woken."""
        await self._check_connections()
        for actor in self.runtime.supervisor.snapshot():
            self.runtime.supervisor.offer(actor.id, PollNow("connections ready"))
        await self._register_webhook()
        while True:
            await anyio.sleep(CONNECTION_CHECK_INTERVAL)
            await self._check_connections()

    async def _prune(self) -> None:
        """Drop finished work past the retention period, now and every few hours."""
        while True:
            days = self.runtime.config.store.retention_days
            removed = await self.runtime.store.prune(time.time() - days * 86400,
                                                     keep_keys_containing=keys.PERMANENT_MARK)
            if any(removed.values()):
                log.info("store.pruned", **removed)
            await anyio.sleep(PRUNE_INTERVAL)

    async def _check_connections(self) -> None:
        await self.connections.prepare()
        problems = await self.connections.problems(self.runtime.config)
        for name, problem in problems.items():
            if problem != self.runtime.connection_problems.get(name, ""):
                log.warning("connection.changed", connection=name, problem=problem or "ok")
        self.runtime.connection_problems = problems

    async def _register_webhook(self) -> None:
        try:
            hook_id = await self.connections.register_webhook(self.runtime.config,
                                                              self.runtime.scis)
        except RemoteError as exc:
            log.error("jira.webhook_registration_failed", error=str(exc))
            self.runtime.webhook = f"registration failed: {exc}"
            return
        self.runtime.webhook = (f"registered (id {hook_id})" if hook_id is not None else
                                "not registered: needs daemon.public_url, a webhook secret, "
                                "an SCI and jira.delivery other than poll")

    async def _watchdog(self, interval: float) -> None:
        """Pings from the event loop itself: a stuck loop stops them and systemd restarts us."""
        while True:
            self.notifier.watchdog()
            await anyio.sleep(interval)


def http_shutdown_timeout(config: Config) -> float:
    """The part of the SIGTERM budget that requests in flight may use; actors get the rest."""
    return config.daemon.drain_timeout * HTTP_SHARE_OF_DRAIN


def run(config_path: Path) -> int:
    """Serve until SIGTERM; ``StartupError`` when the environment does not allow a start."""
    config = config_module.load(config_path)
    bridge_logging.configure(config.daemon.log_level)
    check_port(config.http)
    daemon = Daemon(config_path, config)
    try:
        return anyio.run(daemon.serve)
    except BaseExceptionGroup as group:
        error = startup_error_in(group)
        if error is None:
            raise
        raise error from None
