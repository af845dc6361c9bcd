"""Signed deliveries the bridge can never use are refused with 400 before the inbox.

Jira retries every 5xx, and whatever reaches the inbox is handed to an actor, so the edge
decodes strictly: the whole body is UTF-8, nesting is bounded, the fields we route on have
the shape Jira gives them.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.http.payload import MAX_DEPTH

from .conftest import Edge, jira_event, serving

ROUTED_FIELDS = {  # a template per routed field; the field's value goes where {} is
    "webhookEvent": b'{"webhookEvent":"%s","issue":{"key":"SUP-1","fields":{"project":'
                    b'{"key":"SUP"},"issuetype":{"name":"Task"}}}}',
    "issue.key": b'{"webhookEvent":"jira:issue_updated","issue":{"key":"%s","fields":'
                 b'{"project":{"key":"SUP"},"issuetype":{"name":"Task"}}}}',
    "project.key": b'{"webhookEvent":"jira:issue_updated","issue":{"key":"SUP-1","fields":'
                   b'{"project":{"key":"%s"},"issuetype":{"name":"Task"}}}}',
    "issuetype.name": b'{"webhookEvent":"jira:issue_updated","issue":{"key":"SUP-1",'
                      b'"fields":{"project":{"key":"SUP"},"issuetype":{"name":"%s"}}}}',
    "changelog": b'{"webhookEvent":"jira:issue_updated","issue":{"key":"SUP-1","fields":'
                 b'{"project":{"key":"SUP"},"issuetype":{"name":"Task"}}},"changelog":'
                 b'{"items":[{"field":"summary","toString":"%s"}]}}',
}


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"child": value}
    return value


async def test_well_formed_event_with_non_ascii_text_is_accepted(edge: Edge) -> None:
    body = ROUTED_FIELDS["changelog"] % "café ☕ \\ud83d\\ude00".encode()
    assert (await edge.deliver(body)).status == 202
    assert await edge.pending() == 1


@pytest.mark.parametrize("field", sorted(ROUTED_FIELDS))
async def test_invalid_utf8_in_any_field_is_400(edge: Edge, field: str) -> None:
    response = await edge.deliver(ROUTED_FIELDS[field] % b"caf\xe9")
    assert response.status == 400
    assert await edge.pending() == 0


@pytest.mark.parametrize("field", sorted(ROUTED_FIELDS))
async def test_lone_surrogate_escape_is_400(edge: Edge, field: str) -> None:
    response = await edge.deliver(ROUTED_FIELDS[field] % b"SUP\\ud800")
    assert response.status == 400
    assert await edge.pending() == 0


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 990, 5000, 100_000])
async def test_deep_nesting_is_400(edge: Edge, depth: int) -> None:
    body = ROUTED_FIELDS["changelog"].replace(b'"%s"', b"[" * depth + b"]" * depth)
    response = await edge.deliver(body)
    assert response.status == 400
    assert "nest" in (await response.json())["error"]
    assert await edge.pending() == 0


async def test_nesting_at_the_limit_is_accepted(edge: Edge) -> None:
    event = jira_event(changelog=nested(MAX_DEPTH - 2))  # the event itself adds two levels
    assert (await edge.deliver(msgspec.json.encode(event))).status == 202


@pytest.mark.parametrize(("field", "value"), [
    ("issue.key", "sup-1"), ("issue.key", "SUP-1\\n"), ("issue.key", "../../SUP-1"),
    ("issue.key", "SUP-"), ("project.key", "SUP\\u0000"), ("project.key", "s p"),
    ("issuetype.name", "Task\\u001b[31m"), ("webhookEvent", ""),
    ("webhookEvent", "JIRA ISSUE UPDATED"), ("issuetype.name", "x" * 300),
])
async def test_routed_field_outside_jiras_shape_is_400(edge: Edge, field: str,
                                                       value: str) -> None:
    response = await edge.deliver(ROUTED_FIELDS[field] % value.encode())
    assert response.status == 400, await response.text()
    assert await edge.pending() == 0


@pytest.mark.parametrize("body", [
    b'{"issue":{"key":"SUP-1"}}',  # no webhookEvent
    b'{"webhookEvent":"jira:issue_updated","issue":{"key":17}}',
    b'{"webhookEvent":"jira:issue_updated","issue":"SUP-1"}',
    b'[1, 2, 3]', b'"jira:issue_updated"', b'', b'\xef\xbb\xbf{}',
])
async def test_wrong_shapes_are_400(edge: Edge, body: bytes) -> None:
    assert (await edge.deliver(body)).status == 400


# -- fuzz: the real app, signed bodies, never a 5xx --------------------------------------
@contextmanager
def served(tmp_path: Path) -> Iterator[tuple[BlockingPortal, Edge]]:
    """The app in a background event loop, so that Hypothesis can drive it synchronously."""
    with start_blocking_portal() as portal, \
            portal.wrap_async_context_manager(serving(tmp_path / "fuzz.db")) as edge:
        yield portal, edge


FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# Text as Jira never sends it: control characters and lone surrogates included.
hostile_text = st.text(st.characters(categories=["Cs"]) | st.characters(categories=["Cc"])
                       | st.characters(), max_size=12)


def test_fuzz_arbitrary_bytes_never_5xx(tmp_path: Path) -> None:
    with served(tmp_path) as (portal, edge):
        @FUZZ
        @given(st.binary(max_size=512))
        def check(body: bytes) -> None:
            assert portal.call(edge.deliver, body).status < 500

        check()


def test_fuzz_arbitrary_json_and_nesting_never_5xx(tmp_path: Path) -> None:
    with served(tmp_path) as (portal, edge):
        @FUZZ
        @given(json_values, st.integers(0, 3 * MAX_DEPTH))
        def check(value: Any, depth: int) -> None:
            body = json.dumps(jira_event(changelog=value, extra=nested(depth))).encode()
            status = portal.call(edge.deliver, body).status
            assert status < 500
            if depth + 2 > MAX_DEPTH:
                assert status == 400

        check()


def test_fuzz_hostile_routed_fields_never_5xx(tmp_path: Path) -> None:
    with served(tmp_path) as (portal, edge):
        @FUZZ
        @given(st.sampled_from(sorted(ROUTED_FIELDS)), st.binary(max_size=12), hostile_text,
               json_values)
        def check(field: str, raw: bytes, text: str, value: Any) -> None:
            invalid = raw.replace(b'"', b"").replace(b"\\", b"") + b"\xff"
            for body in (ROUTED_FIELDS[field] % invalid,
                         ROUTED_FIELDS[field] % json.dumps(text)[1:-1].encode(),
                         ROUTED_FIELDS[field].replace(b'"%s"', json.dumps(value).encode())):
                status = portal.call(edge.deliver, body).status
                assert status < 500
                if body.endswith(b"\xff") or b"\xff" in body:
                    assert status == 400

        check()
