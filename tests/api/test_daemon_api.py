"""The admin API in the real daemon process: a token made with the CLI while it runs, the
connections it probed, and a re-probe through the API against the simulated Jira."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.harness import ADMIN, HASHES

BRIDGE = [sys.executable, "-m", "bridge"]


@pytest.fixture
def sandbox() -> Iterator[dict]:
    proc = subprocess.Popen([*BRIDGE, "sandbox", "--port", "0"], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    yield json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stdout.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(url: str, token: str = "", method: str = "GET") -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method, headers=headers),
                                    timeout=10) as response:
            return response.status, response.url, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode()


def wait_until_answering(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the daemon did not start answering")


def test_daemon_serves_the_admin_api(tmp_path: Path, sandbox: dict) -> None:
    jira, port = sandbox["jira"], free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'[http]\nport = {port}\n[store]\npath = "{tmp_path / "bridge.db"}"\n'
        f'[jira]\nsite_url = "{jira["base_url"]}"\nemail = "{jira["email"]}"\n'
        f'api_token = "{jira["api_token"]}"\n'
        f'[[ui.user]]\nname = "{ADMIN[0]}"\npassword_hash = "{HASHES[ADMIN[0]]}"\n'
        'role = "admin"\n')
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*BRIDGE, "run", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answering(base, proc)
        made = subprocess.run([*BRIDGE, "token", "create", "--role", "admin",
                               "--config", str(config)], capture_output=True, text=True,
                              check=True)
        token = made.stdout.strip()
        status, _, body = request(base + "/api/v1/connections/jira/test", token, "POST")
        assert status == 200, body
        assert json.loads(body)["health"] == "ok"
        status, _, body = request(base + "/api/v1/connections", token)
        assert {c["name"]: c["health"] for c in json.loads(body)}["jira"] == "ok"
        status, landed, _ = request(base + "/admin/connections")
        assert status == 200 and landed.startswith(base + "/login?next=")
        assert (tmp_path / "session.key").exists()  # generated once beside the store
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
