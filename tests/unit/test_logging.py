import io
import json
import logging

import structlog

from bridge import logging as bridge_logging
from bridge.config import Secret


def capture(**fields) -> dict:
    stream = io.StringIO()
    bridge_logging.configure("info", stream)
    structlog.get_logger("t").info("event.happened", **fields)
    return json.loads(stream.getvalue().strip().splitlines()[-1])


def test_secret_named_fields_are_redacted() -> None:
    line = capture(api_token="tok-123", client_secret="cs", headers={"Authorization": "Basic x"})
    assert line["api_token"] == "***" and line["client_secret"] == "***"
    assert line["headers"] == {"Authorization": "***"}


def test_inline_credentials_in_text_are_redacted() -> None:
    line = capture(error="401 for Zoho-oauthtoken 1000.abc.def at /x?refresh_token=1000.r&a=1")
    assert "1000.abc" not in line["error"] and "1000.r" not in line["error"]
    assert "Zoho-oauthtoken ***" in line["error"] and "a=1" in line["error"]


def test_secret_values_never_render() -> None:
    line = capture(config=repr({"token": Secret("hunter2")}))
    assert "hunter2" not in json.dumps(line)


def test_context_fields_are_merged() -> None:
    with structlog.contextvars.bound_contextvars(request_id="r-1", sci_id="s-1"):
        line = capture(event_id=5)
    assert (line["request_id"], line["sci_id"], line["event_id"]) == ("r-1", "s-1", 5)
    assert line["level"] == "info" and line["event"] == "event.happened"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeated_identical_stdlib_errors_are_rate_limited() -> None:
    stream, clock = io.StringIO(), Clock()
    bridge_logging.configure("info", stream, clock=clock)
    accept_errors = logging.getLogger("asyncio")
    for _ in range(1000):  # what an accept loop out of file descriptors produces
        accept_errors.error("socket.accept() out of system resource")
    assert stream.getvalue().count("out of system resource") == 1
    clock.now += bridge_logging.REPEAT_WINDOW
    accept_errors.error("socket.accept() out of system resource")
    last = stream.getvalue().strip().splitlines()[-1]
    assert "999 identical messages suppressed" in last


def test_repeated_identical_warnings_are_rate_limited_but_info_is_not() -> None:
    stream, clock = io.StringIO(), Clock()
    bridge_logging.configure("info", stream, clock=clock)
    log = structlog.get_logger("t")
    for n in range(100):
        with structlog.contextvars.bound_contextvars(request_id=f"r-{n}"):
            log.warning("webhook.rejected", result="bad_signature")
            log.info("webhook.accepted", event_id=n)
    log.warning("webhook.rejected", result="busy")  # a different error is not identical
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["result"] for line in lines if line["event"] == "webhook.rejected"] == [
        "bad_signature", "busy"]
    assert sum(line["event"] == "webhook.accepted" for line in lines) == 100
    clock.now += bridge_logging.REPEAT_WINDOW
    log.warning("webhook.rejected", result="bad_signature")
    assert json.loads(stream.getvalue().splitlines()[-1])["suppressed"] == 99
