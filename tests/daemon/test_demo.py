import base64
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def fetch(url: str, **kwargs) -> tuple[int, bytes]:
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while (result := check()) is False or result is None:
        assert time.monotonic() < deadline, "demo did not get there in time"
        time.sleep(0.1)
    return result


def test_demo_receives_changes_made_in_the_simulated_jira(tmp_path: Path, free_port) -> None:
    port = free_port()
    # --sim-port 0: every simulator on a free port of its own (consecutive ports from a
    # random start can collide with the other sockets of a busy test run).
    demo = subprocess.Popen(
        [sys.executable, "-m", "bridge", "demo", "--state-dir", str(tmp_path),
         "--port", str(port), "--sim-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert demo.stderr is not None
        banner = [demo.stderr.readline() for _ in range(5)]
        (jira_line,) = [line for line in banner if "Jira (sim)" in line]
        jira_url = jira_line.split()[2]
        daemon = f"http://127.0.0.1:{port}"
        until(lambda: fetch(daemon + "/readyz")[0] == 200)
        ready = json.loads(fetch(daemon + "/readyz")[1])
        assert {a["id"] for a in ready["actors"]} == {"support-cases", "mobile-tasks",
                                                      "engineering-deals"}
        token = base64.b64encode(b"bridge@example.com:sim-jira-api-token").decode()
        status, _ = fetch(f"{jira_url}/rest/api/3/issue/SUP-1", method="PUT",
                          data=b'{"fields": {"summary": "Printer fixed"}}',
                          headers={"Authorization": f"Basic {token}",
                                   "Content-Type": "application/json"})
        assert status == 204
        accepted = 'bridge_webhook_events_total{result="accepted",source="jira"}'
        until(lambda: accepted in fetch(daemon + "/metrics")[1].decode())
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=15) == 0
        assert any("Zoho ⇄ Jira bridge demo" in line for line in banner)
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.wait()
        if demo.stderr:
            demo.stderr.close()
