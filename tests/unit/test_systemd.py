import os
import socket
from pathlib import Path

from bridge.systemd import Notifier


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = Notifier({})
    notifier.ready("x")
    notifier.watchdog()
    assert notifier.watchdog_interval is None


def test_messages_reach_the_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "n.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        server.settimeout(2)
        notifier = Notifier({"NOTIFY_SOCKET": path})
        notifier.ready("serving")
        notifier.watchdog()
        notifier.stopping()
        assert server.recv(100) == b"READY=1\nSTATUS=serving"
        assert server.recv(100) == b"WATCHDOG=1"
        assert server.recv(100) == b"STOPPING=1"


def test_abstract_socket_address() -> None:
    name = f"bridge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(2)
        Notifier({"NOTIFY_SOCKET": "@" + name}).reloading()
        assert server.recv(100) == b"RELOADING=1"


def test_watchdog_interval_is_half_the_timeout_and_respects_pid() -> None:
    assert Notifier({"WATCHDOG_USEC": "30000000"}).watchdog_interval == 15.0
    other = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert Notifier(other).watchdog_interval is None
