"""The org's data: records per module, notes, attachments, stage history, and the rules
a write must pass (mandatory name field, known fields, numeric amounts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.zoho.simulator.common import IdSequence, zoho_time
from adapters.zoho.simulator.crm.data import MODULES, SAMPLES
from adapters.zoho.simulator.crm.replies import field_failure

OWNER = {"name": "Bridge Admin", "id": "5551900000000000001", "email": "admin@example.com"}
NUMERIC = frozenset({"currency", "double", "integer"})

# (module, operation, record id); operation is insert, update or delete as in callbacks
ChangeListener = Callable[[str, str, str], None]


@dataclass
class CrmStore:
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    stage_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ids: IdSequence = field(default_factory=IdSequence)
    listeners: list[ChangeListener] = field(default_factory=list)

    def seed(self) -> None:
        for module, rows in SAMPLES.items():
            for row in rows:
                self.insert(module, dict(row))

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
        name_field = MODULES[module][2]
        if creating and not values.get(name_field):
            return field_failure("MANDATORY_NOT_FOUND", "required field not found",
                                 name_field, index)
        types = dict(MODULES[module][1])
        for api_name, value in values.items():
            if api_name == "id" or api_name.startswith("$"):
                continue
            if api_name not in types:
                return field_failure("INVALID_DATA", "invalid data", api_name, index)
            if types[api_name] in NUMERIC and not isinstance(value, int | float):
                return field_failure("INVALID_DATA", "invalid data", api_name, index,
                                     expected_data_type="double")
        return None

    def insert(self, module: str, values: dict[str, Any]) -> dict[str, Any]:
        record_id, stamp = self.ids.next(), zoho_time()
        record = {**values, "id": record_id, "Owner": OWNER, "Created_Time": stamp,
                  "Modified_Time": stamp, "Created_By": OWNER, "Modified_By": OWNER}
        self.module(module)[record_id] = record
        if module == "Deals" and values.get("Stage"):
            self._stage_row(record)
        self._changed(module, "insert", record_id)
        return record

    def update(self, module: str, record: dict[str, Any],
               values: dict[str, Any]) -> dict[str, Any]:
        stage_before = record.get("Stage")
        record.update({k: v for k, v in values.items() if k != "id"})
        record["Modified_Time"] = zoho_time()
        if module == "Deals" and record.get("Stage") != stage_before:
            self._stage_row(record)
        self._changed(module, "update", record["id"])
        return record

    def delete(self, module: str, record_id: str) -> bool:
        if self.records.get(module, {}).pop(record_id, None) is None:
            return False
        self._changed(module, "delete", record_id)
        return True

    def _stage_row(self, deal: dict[str, Any]) -> None:
        self.stage_history.setdefault(deal["id"], []).insert(0, {
            "id": self.ids.next(), "Stage": deal.get("Stage"), "Amount": deal.get("Amount"),
            "Modified_Time": deal["Modified_Time"], "Modified_By": OWNER})

    def _changed(self, module: str, operation: str, record_id: str) -> None:
        for listener in self.listeners:
            listener(module, operation, record_id)
