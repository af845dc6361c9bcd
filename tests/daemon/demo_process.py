"""``bridge demo`` as a subprocess, with the URLs its banner prints and small HTTP helpers."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One console row: its form's hidden fields, the title, then the linked issue (if any).
CONSOLE_ROW = re.compile(
    r'name="system" value="(?P<system>\w+)">\s*'
    r'<input type="hidden" name="id" value="(?P<id>[^"]+)">\s*'
    r'<input type="hidden" name="label" value="(?P<label>[^"]*)">\s*'
    r'<input type="text" name="title" value="(?P<title>[^"]*)"[\s\S]*?</form>\s*</td>\s*'
    r'<td>(?:<code>(?P<linked>[^<]+)</code>)?')


def fetch(url: str, **kwargs: Any) -> tuple[int, bytes]:
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while (result := check()) is False or result is None:
        assert time.monotonic() < deadline, "demo did not get there in time"
        time.sleep(0.1)
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DemoProcess:
    """``--sim-port 0``: every simulator on a free port of its own (consecutive ports from a
    random start can collide with the other sockets of a busy test run)."""

    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = state_dir
        self.daemon = f"http://127.0.0.1:{port}"
        self.banner: list[str] = []
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "demo", "--state-dir", str(state_dir),
             "--port", str(port), "--sim-port", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def __enter__(self) -> DemoProcess:
        assert self._process.stderr is not None
        while not self.banner or "Ctrl-C" not in self.banner[-1]:
            line = self._process.stderr.readline()
            assert line, f"the demo ended before its banner: {self.banner}"
            self.banner.append(line)
        self.jira = self.banner_url("Jira (sim)")
        self.console = self.banner_url("console").rstrip("/")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()

    def banner_url(self, label: str) -> str:
        (line,) = [line for line in self.banner if line.strip().startswith(label)]
        return next(word for word in line.split() if word.startswith("http://"))

    def stop(self) -> int:
        self._process.send_signal(signal.SIGINT)
        return self._process.wait(timeout=15)

    def cli(self, *args: str) -> Any:
        """A ``bridge`` admin command against the demo's store, its ``--json`` output."""
        done = subprocess.run(
            [sys.executable, "-m", "bridge", *args, "--config",
             str(self.state_dir / "demo.toml"), "--json"],
            capture_output=True, text=True, timeout=30, check=True)
        return json.loads(done.stdout)

    def console_rows(self) -> list[dict[str, str]]:
        status, page = fetch(self.console + "/")
        assert status == 200
        return [match.groupdict(default="") for match in CONSOLE_ROW.finditer(page.decode())]

    def console_edit(self, row: dict[str, str], title: str) -> str:
        """Post the console's form for ``row``; the page it redirects to."""
        form = {"system": row["system"], "id": row["id"], "label": row["label"],
                "title": title}
        status, page = fetch(self.console + "/edit", method="POST",
                             data=urllib.parse.urlencode(form).encode())
        assert status == 200
        return page.decode()

    def jira_summary(self, key: str) -> str | None:
        status, body = fetch(self.jira + "/_sim/state")
        issues = json.loads(body)["issues"] if status == 200 else []
        return next((i["summary"] for i in issues if i["key"] == key), None)
