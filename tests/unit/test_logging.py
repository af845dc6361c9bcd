import io
import json

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
