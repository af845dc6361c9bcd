"""Strict decoding of a webhook body: what the edge accepts, every later stage can read.

A signed body is refused (400, which Jira does not retry) unless the whole of it is UTF-8,
its arrays and objects nest at most ``MAX_DEPTH`` deep, no string holds a lone surrogate
(``"\\ud800"`` decodes, but cannot be encoded, stored or logged again) and the fields we
route on have Jira's shape (see ``bridge.routing``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from bridge.routing import JiraEventView, NotAnEvent, decode_event

# Jira's payloads nest about ten levels; anything near the decoders' recursion limits
# (about 1,000) is an attack or a bug, never an event.
MAX_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class Unusable(ValueError):
    """A body the bridge can never use; the message says why (it goes to the sender)."""


def decode_jira_event(body: bytes) -> JiraEventView:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unusable(f"body is not UTF-8 (invalid byte at offset {exc.start})") from None
    if nests_deeper(body, MAX_DEPTH):
        raise Unusable(f"JSON nests deeper than {MAX_DEPTH} levels")
    try:
        event = decode_event(body)
    except NotAnEvent as exc:
        raise Unusable(str(exc)) from None
    # Valid UTF-8 cannot hold a surrogate, so only a \uD800-\uDFFF escape can make one.
    if _SURROGATE_ESCAPE.search(body) and not all(
            _encodable(text) for text in _strings(msgspec.json.decode(body))):
        raise Unusable("body holds a lone UTF-16 surrogate escape")
    return event


def nests_deeper(body: bytes, limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit`` (brackets inside strings ignored)."""
    depth = 0
    for char in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if char in _OPENERS else -1
        if depth > limit:
            return True
    return False


def _strings(document: Any) -> Iterator[str]:
    """Every string of a decoded document, keys included (iterative: depth is bounded, but
    a recursion here would still cost a frame per level)."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
