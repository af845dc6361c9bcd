import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge import config
from bridge.config import DaemonConfig

UNIT = Path(__file__).parents[2] / "deploy" / "bridge.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_hardening_exposure_at_most_2() -> None:
    result = subprocess.run(
        # --threshold uses systemd's internal 0-100 scale: 20 == an exposure of 2.0.
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(UNIT)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    match = re.search(r"Overall exposure level for bridge.service: ([0-9.]+)", result.stdout)
    assert match is not None and float(match.group(1)) <= 2.0


def test_unit_declares_lifecycle_contract() -> None:
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID",
                 "DynamicUser=yes", "StateDirectory=bridge", "LoadCredential=",
                 "ProtectSystem=strict", "SystemCallFilter=@system-service",
                 "CapabilityBoundingSet="):
        assert line in text, line


def unit_setting(name: str) -> str:
    match = re.search(rf"^{name}=(.+)$", UNIT.read_text(), re.M)
    assert match is not None, f"{name}= missing from the unit"
    return match.group(1).strip()


def test_unit_raises_the_open_file_limit() -> None:
    # systemd's default soft limit (1,024) is exhausted by as many idle sockets.
    assert int(unit_setting("LimitNOFILE")) >= 65536


def test_sigterm_budget_fits_in_the_stop_timeout() -> None:
    """The whole shutdown (HTTP, actors, store) runs within daemon.drain_timeout; systemd
    must not SIGKILL before that, with a margin for closing the store."""
    stop_timeout = float(unit_setting("TimeoutStopSec"))
    example = config.load(UNIT.with_name("bridge.example.toml"), {})
    for budget in (DaemonConfig().drain_timeout, example.daemon.drain_timeout):
        assert budget + 10 <= stop_timeout
