"""Making, changing, pausing and deleting SCIs from the admin UI and API.

Those SCIs live in the store (origin ``ui``); SCIs declared in the config file are changed
in the file and are read-only here. Every change is applied at once: the SCI's actor starts,
restarts or stops, and the Jira webhook follows the projects in use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bridge.admin.operations import Invalid, NotFound, Refused, sci
from bridge.admin.views import SciDeleted, SciDetail
from bridge.config import explain, split_error
from bridge.runtime import Runtime
from bridge.sci import SciConfig
from bridge.store import SciRecord
from bridge.store.base import SCI_DELETED


class InvalidSci(Invalid):
    """A definition the config loader would refuse too; ``field`` is the dotted key."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_definition(raw: Mapping[str, Any]) -> SciConfig:
    """The SCI a form or API body describes, checked exactly as the config loader does."""
    try:
        return msgspec.convert(raw, SciConfig)
    except msgspec.ValidationError as exc:
        raise InvalidSci(explain(exc, raw, SciConfig), split_error(exc)[1]) from None


async def create_sci(runtime: Runtime, raw: Mapping[str, Any]) -> SciDetail:
    made = parse_definition(raw)
    if any(known.id == made.id for known in runtime.scis):
        raise Refused(f"an SCI with id {made.id!r} exists already; choose another id")
    kept = await runtime.store.get_sci(made.id)
    if kept is not None and not (kept.origin == "ui" and kept.status == SCI_DELETED):
        raise Refused(f"the id {made.id!r} belongs to an SCI that was removed from the "
                      "config file (its links are kept); choose another id")
    await _save(runtime, made)
    return await sci(runtime, made.id)


async def update_sci(runtime: Runtime, sci_id: str, raw: Mapping[str, Any]) -> SciDetail:
    editable(runtime, sci_id)
    if raw.get("id", sci_id) != sci_id:
        raise InvalidSci("the id of an SCI cannot change; create a new SCI instead", "id")
    await _save(runtime, parse_definition({**raw, "id": sci_id}))
    return await sci(runtime, sci_id)


async def set_enabled(runtime: Runtime, sci_id: str, enabled: bool) -> SciDetail:
    """Pause (``False``) or resume an SCI; a paused SCI keeps its links and queues."""
    current = editable(runtime, sci_id)
    await _save(runtime, msgspec.structs.replace(current, enabled=enabled))
    return await sci(runtime, sci_id)


async def delete_sci(runtime: Runtime, sci_id: str, *, keep_links: bool) -> SciDeleted:
    """Stop and remove the SCI. Kept links wait in the store for an SCI made again with
    the same id; otherwise the links, their mirrors and history go with it."""
    editable(runtime, sci_id)
    del runtime.managed[sci_id]
    if keep_links:
        await runtime.store.set_sci_status(sci_id, SCI_DELETED, "deleted, links kept")
    else:
        await runtime.store.delete_sci(sci_id)
    await _apply(runtime)
    return SciDeleted(sci_id=sci_id, links_kept=keep_links)


def editable(runtime: Runtime, sci_id: str) -> SciConfig:
    if any(declared.id == sci_id for declared in runtime.config.sci):
        raise Refused(f"SCI {sci_id} is declared in the config file; change it there and "
                      "reload the daemon (SIGHUP)")
    found = runtime.managed.get(sci_id)
    if found is None:
        raise NotFound(f"no SCI {sci_id!r}")
    return found


async def _save(runtime: Runtime, item: SciConfig) -> None:
    await runtime.store.put_sci(SciRecord(
        id=item.id, name=item.name, kind=item.zoho.system, definition=msgspec.json.encode(item),
        enabled=item.enabled, origin="ui"))
    await runtime.store.set_sci_status(item.id, "active", "")
    runtime.managed[item.id] = item
    await _apply(runtime)


async def _apply(runtime: Runtime) -> None:
    if runtime.apply_scis is not None:  # offline (the CLI): the daemon applies it on start
        await runtime.apply_scis()
