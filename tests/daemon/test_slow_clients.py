"""The daemon under more idle sockets than it has file descriptors: health stays reachable
and the log does not drown in identical accept errors."""

import os
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

OPEN_FILES = 64  # the daemon's soft limit in this test; it needs about 20 itself


def limit_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, hard))


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_idle_sockets_beyond_the_file_limit(tmp_path: Path, free_port) -> None:
    port = free_port()
    config = tmp_path / "bridge.toml"
    config.write_text(f'[http]\nport = {port}\nheader_timeout = 0.5\n'
                      f'[store]\npath = "{tmp_path / "bridge.db"}"\n')
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit_open_files,
        env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"},
    )
    base = f"http://127.0.0.1:{port}"
    idle: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 20
        while not healthy(base):
            assert time.monotonic() < deadline and daemon.poll() is None, "never started"
            time.sleep(0.05)
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(3 * OPEN_FILES)]
        # The daemon runs out of descriptors, then frees them as idle sockets time out.
        deadline = time.monotonic() + 30
        while not healthy(base):
            assert time.monotonic() < deadline, "health never answered again"
    finally:
        for sock in idle:
            sock.close()
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err.decode()[-2000:]
    logs = out.decode() + err.decode()
    accept_errors = logs.count("out of system resource")
    assert 1 <= accept_errors <= 10, f"{accept_errors} accept errors logged"
