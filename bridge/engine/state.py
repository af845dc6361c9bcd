"""What the store keeps per link: the base plus what the last pass reported."""

from __future__ import annotations

import msgspec

from bridge.sync.model import Base


class LinkState(msgspec.Struct, kw_only=True):
    """Persisted as JSON in ``synced_state``; every field has a default (schema evolution)."""

    base: Base | None = None
    problems: list[str] = []
    synced_at: float = 0.0


def load(raw: bytes | None) -> LinkState:
    return LinkState() if raw is None else msgspec.json.decode(raw, type=LinkState)


def dump(state: LinkState) -> bytes:
    return msgspec.json.encode(state)
