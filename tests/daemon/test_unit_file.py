import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
