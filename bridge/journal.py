"""The engine that journals what reaches an SCI without writing to either side.

Every routed event is decoded, summarised ("jira:issue_updated SUP-7: status To Do → Done")
and written to the SCI's sync history, so an operator sees exactly what the daemon
received per SCI. It makes no remote writes and has no Zoho source to poll.
"""

from __future__ import annotations

import msgspec

from actors.sci import EventResult, PollResult
from bridge.sci import SciConfig
from bridge.store import InboxItem


class _ChangeItem(msgspec.Struct):
    field: str = ""
    fromString: str | None = None
    toString: str | None = None


class _Changelog(msgspec.Struct):
    items: list[_ChangeItem] = []


class _Issue(msgspec.Struct):
    key: str = ""


class _Event(msgspec.Struct):
    webhookEvent: str = "unknown"
    issue: _Issue | None = None
    changelog: _Changelog | None = None


_decoder = msgspec.json.Decoder(_Event)


def describe(payload: bytes) -> str:
    event = _decoder.decode(payload)
    text = event.webhookEvent
    if event.issue and event.issue.key:
        text += f" {event.issue.key}"
    changes = [
        f"{c.field} {c.fromString or '∅'} → {c.toString or '∅'}"
        for c in (event.changelog.items if event.changelog else [])
    ]
    return text + (": " + "; ".join(changes) if changes else "")


class JournalEngine:
    async def handle_event(self, sci: SciConfig, item: InboxItem) -> EventResult:
        try:
            return EventResult("done", describe(item.payload))
        except msgspec.DecodeError as exc:
            return EventResult("failed", f"undecodable event: {exc}")

    async def poll(self, sci: SciConfig) -> PollResult | None:
        return None
