"""Statuses: the conditional rule, Zoho ⇄ Jira status matching and workflow path finding."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import msgspec

from bridge.sci import SyncRule
from bridge.sync.model import JiraStatus, StatusCategory

_RANK: dict[StatusCategory, int] = {"new": 0, "indeterminate": 1, "done": 2, "": 1}


class ZohoStatus(msgspec.Struct, frozen=True):
    name: str
    closed: bool | None = None


class TransitionOption(msgspec.Struct, frozen=True):
    id: str
    to: JiraStatus


def rule_met(rule: SyncRule, fields: Mapping[str, Any]) -> bool:
    raw = fields.get(rule.field)
    value = raw.get("name") or raw.get("value") if isinstance(raw, dict) else raw
    empty = value in (None, "", [], "-None-")
    match rule.operator:
        case "is_empty":
            return empty
        case "is_not_empty":
            return not empty
        case "equals":
            return not empty and _same(value, rule.value)
        case "not_equals":
            return empty or not _same(value, rule.value)


def _same(value: Any, wanted: str) -> bool:
    if isinstance(value, list):
        return any(str(v).casefold() == wanted.casefold() for v in value)
    return str(value).casefold() == wanted.casefold()


def jira_target(zoho_status: str, closed: bool | None, current: JiraStatus,
                statuses: Sequence[JiraStatus], status_map: Mapping[str, str]) -> str | None:
    """The Jira status for a Zoho status: explicit map, same name, then the closest status
    of the same category (Projects says whether a status closes). None: no safe match."""
    mapped = _lookup(status_map, zoho_status)
    if mapped:
        return mapped
    same = _named(statuses, zoho_status)
    if same:
        return same.name
    if closed is None:
        return None
    if closed:
        return current.name if current.category == "done" else _first(statuses, "done")
    if current.category != "done":
        return current.name
    return _first(statuses, "indeterminate") or _first(statuses, "new")


def zoho_target(jira: JiraStatus, current: ZohoStatus, statuses: Sequence[ZohoStatus],
                status_map: Mapping[str, str]) -> str | None:
    for zoho_name, jira_name in status_map.items():
        if jira_name.casefold() == jira.name.casefold():
            return zoho_name
    same = next((s for s in statuses if s.name.casefold() == jira.name.casefold()), None)
    if same:
        return same.name
    wants_closed = jira.category == "done"
    if current.closed == wants_closed:
        return current.name
    return next((s.name for s in statuses if s.closed == wants_closed), None)


def next_transition(current: JiraStatus, target: str, available: Sequence[TransitionOption],
                    learned: Mapping[str, Collection[str]], visited: Collection[str],
                    target_category: StatusCategory = "") -> TransitionOption | None:
    """The next step from ``current`` towards ``target``: a direct transition, else the
    first step of the shortest path through transitions seen before (``learned``: status →
    statuses reachable in one step), else the unvisited step whose category is closest to
    the target's. None when nothing is left to try."""
    options = [o for o in available if o.to.name.casefold() != current.name.casefold()]
    for option in options:
        if option.to.name.casefold() == target.casefold():
            return option
    fresh = [o for o in options if o.to.name not in visited]
    best: tuple[int, TransitionOption] | None = None
    for option in fresh:
        hops = _distance(option.to.name, target, learned)
        if hops is not None and (best is None or hops < best[0]):
            best = (hops, option)
    if best:
        return best[1]
    goal = _RANK[target_category]
    ranked = sorted(fresh, key=lambda o: abs(_RANK[o.to.category] - goal))
    return ranked[0] if ranked else None


def _distance(start: str, target: str, learned: Mapping[str, Collection[str]]) -> int | None:
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    seen = {start}
    while queue:
        name, hops = queue.popleft()
        if name.casefold() == target.casefold():
            return hops
        for nxt in learned.get(name, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, hops + 1))
    return None


def _lookup(mapping: Mapping[str, str], key: str) -> str | None:
    return next((v for k, v in mapping.items() if k.casefold() == key.casefold()), None)


def _named(statuses: Sequence[JiraStatus], name: str) -> JiraStatus | None:
    return next((s for s in statuses if s.name.casefold() == name.casefold()), None)


def _first(statuses: Sequence[JiraStatus], category: StatusCategory) -> str | None:
    return next((s.name for s in statuses if s.category == category), None)
