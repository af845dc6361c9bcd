"""The running daemon exports the health metrics the alert rules and the dashboard use."""

from collections.abc import Callable

import anyio

from tests.e2e.conftest import DaemonProcess
from tests.e2e.test_sync import crm_sci, until


async def test_the_daemon_exports_connection_health_and_poll_times(
        daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci())

    async def polled() -> bool:
        return await anyio.to_thread.run_sync(
            bridge.metric, 'bridge_last_successful_poll_timestamp_seconds{sci="cases"}') > 0

    await until(polled)
    assert bridge.metric('bridge_connection_up{connection="jira"}') == 1.0
    assert bridge.metric('bridge_connection_up{connection="zoho.crm"}') == 1.0
    assert bridge.metric('bridge_poll_interval_seconds{sci="cases"}') == 1.0
