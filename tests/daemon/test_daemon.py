"""The daemon as systemd runs it: a subprocess with a real NOTIFY_SOCKET."""

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import anyio
import anyio.lowlevel
import pytest

from adapters.jira.client import JiraClient

SECRET = "hook-secret"
SCIS = """
[[sci]]
id = "sup"
name = "Support"
mode = "two_way"
jira_projects = ["SUP"]
jira_issue_type = "Task"
zoho = {{ system = "crm", module = "Cases" }}
poll_interval = {sup_interval}

[[sci]]
id = "eng"
name = "Engineering"
mode = "display"
jira_projects = ["ENG"]
zoho = {{ system = "crm", module = "Deals" }}
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict]:
    """The simulators in their own process, as an operator would run them."""
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    yield info
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture
def write_config(tmp_path: Path, sandbox: dict, free_port):
    def write(tmp: Path = tmp_path, sup_interval: float = 30.0, crm: bool = True) -> Path:
        jira = sandbox["jira"]
        (tmp / "creds").mkdir(exist_ok=True)
        (tmp / "creds" / "hook").write_text(SECRET)
        (tmp / "creds" / "jira-token").write_text(jira["api_token"])
        port = free_port()
        path = tmp / "bridge.toml"
        path.write_text(
            f'[http]\nport = {port}\n[store]\npath = "{tmp / "bridge.db"}"\n'
            f'[daemon]\ndrain_timeout = 5.0\npublic_url = "http://127.0.0.1:{port}"\n'
            f'[jira]\nsite_url = "{jira["base_url"]}"\nemail = "{jira["email"]}"\n'
            'api_token = "credential:jira-token"\nwebhook_secret = "credential:hook"\n'
            + (zoho_crm(sandbox["zoho"]) if crm else "") + SCIS.format(sup_interval=sup_interval)
        )
        return path

    return write


def zoho_crm(zoho: dict) -> str:
    """The sandbox's Zoho CRM as the SCIs' connection (by its refresh token)."""
    return (f'[zoho.crm]\nclient_id = "{zoho["client_id"]}"\n'
            f'client_secret = "{zoho["client_secret"]}"\n'
            f'refresh_token = "{zoho["refresh_token"]}"\n'
            f'accounts_url = "{zoho["accounts_url"]}"\napi_url = "{zoho["crm_api_url"]}"\n')


class Daemon:
    def __init__(self, tmp: Path, config: Path, watchdog_usec: int = 0) -> None:
        address = str(tmp / f"notify-{len(list(tmp.glob('notify-*.sock')))}.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(address)
        self.notify.settimeout(10)
        env = {**os.environ, "NOTIFY_SOCKET": address,
               "CREDENTIALS_DIRECTORY": str(tmp / "creds")}
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "run", "--config", str(config)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.base = ""

    def next_message(self, prefix: str) -> str:
        while True:
            message = self.notify.recv(4096).decode()
            if message.startswith(prefix):
                return message

    def wait_ready(self) -> None:
        ready = self.next_message("READY=1")
        self.base = ready.split("listening on ")[1].strip()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post_webhook(self, payload: dict, delivery: str) -> int:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.base + "/webhooks/jira", data=body, method="POST",
            headers={"X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": delivery,
                     "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status

    def actors(self) -> dict[str, dict]:
        _, body = self.get("/readyz")
        return {a["id"]: a for a in json.loads(body)["actors"]}

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        self.notify.close()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator:
    started: list[Daemon] = []

    def start(config: Path, **kwargs) -> Daemon:
        daemon = Daemon(tmp_path, config, **kwargs)
        started.append(daemon)
        daemon.wait_ready()
        return daemon

    yield start
    for daemon in started:
        daemon.close()


def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def issue_event(key: str, project: str, issue_type: str) -> dict:
    return {"webhookEvent": "jira:issue_updated",
            "issue": {"key": key, "fields": {"project": {"key": project},
                                             "issuetype": {"name": issue_type}}},
            "changelog": {"items": [{"field": "status", "fromString": "To Do",
                                     "toString": "Done"}]}}


def test_lifecycle_ready_health_metrics_watchdog_stop(write_config, daemon_factory) -> None:
    daemon = daemon_factory(write_config(), watchdog_usec=200_000)
    assert daemon.next_message("WATCHDOG=1") == "WATCHDOG=1"
    status, body = daemon.get("/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    wait_until(lambda: daemon.get("/readyz")[0] == 200)
    status, body = daemon.get("/readyz")
    assert json.loads(body)["ready"] is True
    status, body = daemon.get("/metrics")
    text = body.decode()
    assert status == 200
    assert 'bridge_actors{state="running"} 2.0' in text
    assert "process_resident_memory_bytes" in text
    assert daemon.stop() == 0
    assert daemon.next_message("STOPPING=1") == "STOPPING=1"
    logs = daemon.proc.stdout.read().decode()  # type: ignore[union-attr]
    assert '"event": "daemon.stopped"' in logs
    assert SECRET not in logs


def test_webhook_event_reaches_the_sci(tmp_path: Path, write_config,
                                               daemon_factory) -> None:
    config = write_config()
    daemon = daemon_factory(config)
    assert daemon.post_webhook(issue_event("SUP-7", "SUP", "Task"), "delivery-7") == 202
    assert daemon.stop() == 0
    # The event was processed before exit, or is still pending in the inbox: never lost.
    check = subprocess.run(
        [sys.executable, "-c", _INSPECT, str(tmp_path / "bridge.db")],
        capture_output=True, text=True, check=True,
    )
    # Handled before exit (SUP-7 is linked to no Zoho record), or still pending: never lost.
    (target,) = json.loads(check.stdout)["targets"]
    assert target in (["pending", ""], ["skipped", "issue is not linked"])


_INSPECT = """
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT status, outcome FROM inbox_targets WHERE sci_id = 'sup'").fetchall()
print(json.dumps({"targets": rows}))
"""


def test_sighup_restarts_only_changed_scis(write_config, daemon_factory) -> None:
    config = write_config()
    daemon = daemon_factory(config)
    before = daemon.actors()
    config.write_text(config.read_text().replace("poll_interval = 30.0", "poll_interval = 45.0"))
    daemon.proc.send_signal(signal.SIGHUP)
    assert daemon.next_message("RELOADING=1") == "RELOADING=1"
    assert "restarted 1 actor" in daemon.next_message("READY=1")
    after = daemon.actors()
    assert after["eng"]["started_at"] == before["eng"]["started_at"]
    assert after["sup"]["started_at"] > before["sup"]["started_at"]
    assert daemon.stop() == 0


def test_sighup_with_broken_config_keeps_running(write_config, daemon_factory) -> None:
    config = write_config()
    daemon = daemon_factory(config)
    config.write_text(config.read_text().replace('mode = "display"', 'mode = "sideways"'))
    daemon.proc.send_signal(signal.SIGHUP)
    assert "reload rejected" in daemon.next_message("READY=1")
    assert set(daemon.actors()) == {"sup", "eng"}
    assert daemon.stop() == 0


def test_sighup_with_non_utf8_config_keeps_running(write_config, daemon_factory) -> None:
    config = write_config()
    daemon = daemon_factory(config)
    config.write_bytes(config.read_bytes().replace(b'name = "Support"', b'name = "Supp\xf6rt"'))
    daemon.proc.send_signal(signal.SIGHUP)
    assert "reload rejected" in daemon.next_message("READY=1")
    assert set(daemon.actors()) == {"sup", "eng"}
    assert daemon.stop() == 0
    logs = daemon.proc.stdout.read().decode()  # type: ignore[union-attr]
    assert "not UTF-8" in logs and "Traceback" not in logs


def test_run_with_bad_config_exits_2_without_traceback(tmp_path: Path, write_config) -> None:
    config = write_config()
    text = config.read_text()
    config.write_text(text.replace(text.split("\n")[1], "port = 99999"))
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=20, check=False,
        env={**os.environ, "CREDENTIALS_DIRECTORY": str(tmp_path / "creds")},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "configuration error" in result.stderr and "http.port" in result.stderr


async def test_jira_change_arrives_through_the_registered_webhook(
        tmp_path: Path, sandbox: dict, write_config, daemon_factory) -> None:
    config = write_config()
    daemon = daemon_factory(config)
    jira = sandbox["jira"]
    async with aiohttp.ClientSession() as session:
        client = JiraClient.basic(jira["base_url"], jira["email"], jira["api_token"], session)
        for _ in range(100):
            hooks = [h for h in await client.webhooks() if h.url.startswith(daemon.base)]
            if hooks:
                break
            await anyio.sleep(0.05)
        (hook,) = hooks
        assert hook.jql == "project in (ENG, SUP)"
        token = subprocess.run(
            [sys.executable, "-m", "bridge", "token", "create", "--role", "admin",
             "--config", str(config)], capture_output=True, text=True, check=True,
            env={**os.environ, "CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}).stdout
        async with session.get(daemon.base + "/api/v1/connections/jira", headers={
                "Authorization": f"Bearer {token.strip()}"}) as response:
            assert (await response.json())["webhook"] == f"registered (id {hook.id})"
        await client.edit_issue("SUP-2", fields={"summary": "Renewal call moved to Friday"})
        for _ in range(200):  # the simulator records each delivery attempt and its answer
            async with session.get(jira["base_url"] + "/_sim/state") as response:
                attempts = (await response.json())["deliveries"]
            if any(a["status"] == 202 for a in attempts):
                break
            await anyio.sleep(0.05)
    assert daemon.stop() == 0
    check = subprocess.run([sys.executable, "-c", _INSPECT, str(tmp_path / "bridge.db")],
                           capture_output=True, text=True, check=True)
    # Handled before shutdown, or still pending in the inbox: never lost.
    (target,) = json.loads(check.stdout)["targets"]
    assert target in (["pending", ""], ["skipped", "issue is not linked"])


def test_declarative_zoho_connections_survive_restarts(
        tmp_path: Path, sandbox: dict, write_config, daemon_factory) -> None:
    zoho = sandbox["zoho"]
    config = write_config(crm=False)
    (tmp_path / "creds" / "zoho-secret").write_text(zoho["client_secret"])
    (tmp_path / "creds" / "zoho-code").write_text(zoho["code"])
    (tmp_path / "creds" / "zoho-refresh").write_text(zoho["refresh_token"])
    common = (f'data_center = "EU"\nclient_id = "{zoho["client_id"]}"\n'
              'client_secret = "credential:zoho-secret"\n'
              f'accounts_url = "{zoho["accounts_url"]}"\n')
    config.write_text(config.read_text().replace("\n[[sci]]", (
        f'\n[zoho.crm]\n{common}grant_code = "credential:zoho-code"\n'
        f'\n[zoho.projects]\n{common}refresh_token = "credential:zoho-refresh"\n\n[[sci]]'), 1))
    for _ in range(2):  # the single-use code is exchanged once; the restart reuses tokens
        daemon = daemon_factory(config)
        wait_until(lambda d=daemon: d.get("/readyz")[0] == 200)
        assert daemon.stop() == 0
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bridge.db*"))
    assert zoho["client_secret"].encode() not in raw
    assert zoho["refresh_token"].encode() not in raw
    assert b"zoho.crm" in raw and b"zoho.projects" in raw  # rows exist, secrets sealed
