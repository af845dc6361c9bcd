"""The org's data: records per module, notes, attachments, stage history, the recycle bin,
and the search index (which may lag writes by ``settings.search_delay``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.zoho.simulator.common import IdSequence
from adapters.zoho.simulator.crm.changes import Change, ChangeLog
from adapters.zoho.simulator.crm.data import MODULES, SAMPLES
from adapters.zoho.simulator.crm.settings import CrmSettings
from adapters.zoho.simulator.crm.validation import record_problem

OWNER = {"name": "Bridge Admin", "id": "5551900000000000001", "email": "admin@example.com"}
USER = {"name": OWNER["name"], "id": OWNER["id"]}  # Zoho's minified user
_Key = tuple[str, str]  # (module, record id)


@dataclass
class CrmStore:
    settings: CrmSettings = field(default_factory=CrmSettings)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    stage_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # deal id → contact id → contact role id
    contact_roles: dict[str, dict[str, str]] = field(default_factory=dict)
    deleted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ids: IdSequence = field(default_factory=IdSequence)
    changes: ChangeLog = field(default_factory=ChangeLog)
    # search index versions: (visible from, values or None when deleted), oldest first
    _index: dict[_Key, list[tuple[float, dict[str, Any] | None]]] = field(default_factory=dict)

    def seed(self) -> None:
        for module, rows in SAMPLES.items():
            for row in rows:
                self.insert(module, dict(row))

    def stamp(self) -> str:
        return self.settings.stamp()

    def module(self, module: str) -> dict[str, dict[str, Any]]:
        return self.records.setdefault(module, {})

    def find(self, module: str, record_id: str) -> dict[str, Any] | None:
        return self.records.get(module, {}).get(record_id)

    def duplicate_of(self, module: str, values: dict[str, Any]) -> dict[str, Any] | None:
        """The record an upsert would update: same Email where the module has one, else
        the same name field."""
        key = "Email" if any(api == "Email" for api, _ in MODULES[module][1]) \
            else MODULES[module][2]
        wanted = values.get(key)
        return next((r for r in self.module(module).values() if wanted and r.get(key) == wanted),
                    None)

    def problem(self, module: str, values: dict[str, Any], index: int,
                creating: bool) -> dict[str, Any] | None:
        """A per-record error item, or None when the values are acceptable."""
        return record_problem(module, values, index, creating=creating,
                              restricted_picklists=self.settings.restricted_picklists)

    # -- records ----------------------------------------------------------------------------
    def insert(self, module: str, values: dict[str, Any]) -> dict[str, Any]:
        record_id, stamp = self.ids.next(), self.stamp()
        record = {**values, "id": record_id, "Owner": OWNER, "Created_Time": stamp,
                  "Modified_Time": stamp, "Created_By": USER, "Modified_By": USER}
        self.module(module)[record_id] = record
        self._reindex(module, record_id, None, record)
        if module == "Deals" and values.get("Stage"):
            self._stage_row(record)
        self.changes.record(Change(module, "insert", [record_id]))
        return record

    def update(self, module: str, record: dict[str, Any],
               values: dict[str, Any]) -> dict[str, Any]:
        changed = {k: v for k, v in values.items() if k != "id" and record.get(k) != v}
        before = dict(record)
        stage_before = record.get("Stage")
        record.update(changed)
        record["Modified_Time"], record["Modified_By"] = self.stamp(), USER
        self._reindex(module, record["id"], before, record)
        if module == "Deals" and record.get("Stage") != stage_before:
            self._stage_row(record)
        self.changes.record(Change(module, "update", [record["id"]],
                                   fields={record["id"]: list(changed)},
                                   values={record["id"]: changed}))
        return record

    def delete(self, module: str, record_id: str) -> bool:
        record = self.records.get(module, {}).get(record_id)
        if record is None:
            return False
        del self.records[module][record_id]
        self._reindex(module, record_id, record, None)
        self.deleted.setdefault(module, []).append({
            "id": record_id, "display_name": record.get(MODULES[module][2]),
            "type": "recycle", "created_by": record["Created_By"], "deleted_by": USER,
            "deleted_time": self.stamp()})
        self.changes.record(Change(module, "delete", [record_id]))
        return True

    def purge(self, module: str, record_id: str) -> None:
        """Empty a record out of the recycle bin: it stays listed as ``permanent``."""
        for entry in self.deleted.get(module, []):
            if entry["id"] == record_id:
                entry["type"] = "permanent"

    # -- notes and attachments ----------------------------------------------------------------
    def child_changed(self, kind: str, operation: str, child_id: str,
                      parent: _Key) -> None:
        """A note or attachment changed: its own event, naming the parent record."""
        self.changes.record(Change(kind, operation, [child_id], parents=[parent]))

    # -- search index -------------------------------------------------------------------------
    def searchable(self, module: str) -> list[dict[str, Any]]:
        """The module's records as the search index shows them now."""
        if not self._index:
            return list(self.module(module).values())
        now = self.settings.now()
        visible: dict[str, dict[str, Any]] = dict(self.module(module))
        for (indexed_module, record_id), versions in self._index.items():
            if indexed_module != module:
                continue
            shown = [values for since, values in versions if since <= now][-1]
            if shown is None:
                visible.pop(record_id, None)
            else:
                visible[record_id] = shown
        return list(visible.values())

    def _reindex(self, module: str, record_id: str, before: dict[str, Any] | None,
                 after: dict[str, Any] | None) -> None:
        """Search keeps showing ``before`` until the delay has passed, then ``after``."""
        key, delay = (module, record_id), self.settings.search_delay
        if delay <= 0:
            self._index.pop(key, None)
            return
        now = self.settings.now()
        versions = self._index.setdefault(key, [(float("-inf"), before)])
        versions.append((now + delay, None if after is None else dict(after)))
        while len(versions) > 1 and versions[1][0] <= now:
            versions.pop(0)

    def _stage_row(self, deal: dict[str, Any]) -> None:
        self.stage_history.setdefault(deal["id"], []).insert(0, {
            "id": self.ids.next(), "Stage": deal.get("Stage"), "Amount": deal.get("Amount"),
            "Modified_Time": deal["Modified_Time"], "Modified_By": USER})
