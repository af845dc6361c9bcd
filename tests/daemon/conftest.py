import socket

import pytest


@pytest.fixture
def free_port():
    """A currently unused loopback port (for processes that must know theirs up front)."""

    def pick() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    return pick
