"""Change events: what a write did, grouped per request as Zoho's callbacks group them
(a batch insert of three records is one event with three ids)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Change:
    module: str
    operation: str  # insert, update or delete, as callbacks name them
    ids: list[str]
    fields: dict[str, list[str]] = field(default_factory=dict)  # id → changed api names
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → new values
    # the records a note or attachment belongs to: (module, id)
    parents: list[tuple[str, str]] = field(default_factory=list)


ChangeListener = Callable[[Change], None]


@dataclass
class ChangeLog:
    """Collects changes while a request runs; ``flush`` hands them out grouped."""

    listeners: list[ChangeListener] = field(default_factory=list)
    _open: list[Change] | None = None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        outer = self._open is None
        if outer:
            self._open = []
        try:
            yield
        finally:
            if outer:
                pending, self._open = self._open or [], None
                for change in _grouped(pending):
                    self._emit(change)

    def record(self, change: Change) -> None:
        if self._open is None:
            self._emit(change)
        else:
            self._open.append(change)

    def _emit(self, change: Change) -> None:
        for listener in self.listeners:
            listener(change)


def _grouped(changes: list[Change]) -> list[Change]:
    """One change per (module, operation), in first-seen order."""
    groups: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.module, change.operation)
        if key not in groups:
            groups[key] = Change(change.module, change.operation, [])
        group = groups[key]
        group.ids.extend(i for i in change.ids if i not in group.ids)
        group.fields.update(change.fields)
        group.values.update(change.values)
        group.parents.extend(p for p in change.parents if p not in group.parents)
    return list(groups.values())
