"""End to end: the real daemon process, configured only through its TOML file, against
``bridge sandbox`` (Jira, Zoho accounts, CRM and Projects simulators) over real sockets."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from actors.budget import RateBudget
from adapters.jira.client import JiraClient
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.oauth import MemoryTokenStore, ZohoOAuth
from adapters.zoho.projects import ZohoProjectsClient
from adapters.zoho.projects.views import ProjectRef


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    yield info
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stdout.close()


@dataclass
class Remote:
    """Our own clients, standing in for the people who edit Jira and Zoho."""

    jira: JiraClient
    crm: ZohoCrmClient
    projects: ZohoProjectsClient
    project: ProjectRef
    info: dict[str, Any]
    session: aiohttp.ClientSession

    async def sim(self, system: str, path: str, body: dict[str, Any]) -> Any:
        base = {"jira": self.info["jira"]["base_url"], "crm": self.info["zoho"]["crm_api_url"],
                "accounts": self.info["zoho"]["accounts_url"]}[system]
        async with self.session.post(f"{base}{path}", json=body) as response:
            assert response.status < 300, await response.text()
            return await response.json()


@pytest.fixture
async def remote(sandbox: dict[str, Any]) -> AsyncIterator[Remote]:
    jira_info, zoho = sandbox["jira"], sandbox["zoho"]
    async with aiohttp.ClientSession() as session:
        jira = JiraClient.basic(jira_info["base_url"], jira_info["email"],
                                jira_info["api_token"], session)
        oauth = ZohoOAuth("people", client_id=zoho["client_id"],
                          client_secret=zoho["client_secret"],
                          accounts_url=zoho["accounts_url"], session=session,
                          store=MemoryTokenStore())
        await oauth.use_refresh_token(zoho["refresh_token"])
        budget = RateBudget("people", rate=50, burst=50)
        crm = ZohoCrmClient.connect(zoho["crm_api_url"], oauth, session, budget)
        projects = ZohoProjectsClient.connect(zoho["projects_api_url"], oauth, session,
                                              workdrive_base=zoho["workdrive_api_url"])
        portal = zoho["portal_id"]
        project = next(p for p in await projects.projects(portal) if p.name == "Mobile App")
        yield Remote(jira, crm, projects, ProjectRef(portal, project.id), sandbox, session)


@dataclass
class DaemonProcess:
    config: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bridge", "run", "--config", str(self.config)],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env})
        deadline = time.monotonic() + 15
        while self.get("/readyz")[0] != 200:  # every SCI's engine has started
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not ready: {self.get('/readyz')}"
            time.sleep(0.05)

    def get(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except (urllib.error.URLError, ConnectionError):
            return 0, None

    def metric(self, line_start: str) -> float:
        """The value of the first /metrics line that starts with ``line_start``."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(line_start):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    def history(self) -> list[str]:
        """Sync history summaries, newest first (read beside the running daemon)."""
        with sqlite3.connect(f"file:{self.config.parent / 'bridge.db'}?mode=ro",
                             uri=True) as db:
            rows = db.execute("SELECT summary FROM sync_history ORDER BY id DESC").fetchall()
        return [str(r[0]) for r in rows]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def config_text(info: dict[str, Any], port: int, db: Path, delivery: str,
                scis: str, crm_auth: str = "grant_code") -> str:
    """``crm_auth``: how the CRM connection signs in: the sandbox's single-use
    ``grant_code``, or its ``refresh_token`` (which a test can then revoke)."""
    jira, zoho = info["jira"], info["zoho"]
    crm_secret = zoho["code"] if crm_auth == "grant_code" else zoho["refresh_token"]
    common = (f'client_id = "{zoho["client_id"]}"\nclient_secret = "{zoho["client_secret"]}"\n'
              f'accounts_url = "{zoho["accounts_url"]}"\n')
    return (
        f'[http]\nport = {port}\n[store]\npath = "{db}"\n'
        f'[daemon]\ndrain_timeout = 5.0\npublic_url = "http://127.0.0.1:{port}"\n'
        f'[jira]\nsite_url = "{jira["base_url"]}"\nemail = "{jira["email"]}"\n'
        f'api_token = "{jira["api_token"]}"\nwebhook_secret = "{jira["webhook_secret"]}"\n'
        f'delivery = "{delivery}"\nrequests_per_second = 50\n'
        f'[zoho.crm]\n{common}{crm_auth} = "{crm_secret}"\napi_url = "{zoho["crm_api_url"]}"\n'
        f'requests_per_second = 50\n'
        f'[zoho.projects]\n{common}refresh_token = "{zoho["refresh_token"]}"\n'
        f'api_url = "{zoho["projects_api_url"]}"\nrequests_per_second = 50\n' + scis)


@pytest.fixture
def daemon(tmp_path: Path, sandbox: dict[str, Any]) -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(scis: str, delivery: str = "webhook", **options: str) -> DaemonProcess:
        port = free_port()
        config = tmp_path / "bridge.toml"
        config.write_text(config_text(sandbox, port, tmp_path / "bridge.db", delivery, scis,
                                      **options))
        process = DaemonProcess(config, port, tmp_path / "daemon.log")
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc is not None and process.proc.poll() is None:
            process.kill()
