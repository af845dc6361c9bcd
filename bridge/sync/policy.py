"""SciConfig → Policy: which way each mapped field and the status may flow.

The mode matrix of the product spec as a table: Display writes nothing, One-way writes
Zoho → Jira, Two-way both ways, Custom per mapping by its owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import msgspec

from bridge.sci import Mode, Owner, SciConfig, SyncRule
from bridge.sync.convert import FieldKind

Direction = Literal["to_jira", "to_zoho", "both", "none"]
ConflictPolicy = Literal["latest", "zoho_wins", "jira_wins"]

MODE_DIRECTION: dict[Mode, Direction] = {
    "display": "none", "one_way": "to_jira", "two_way": "both", "custom": "both",
}
OWNER_DIRECTION: dict[Owner, Direction] = {"zoho": "to_jira", "jira": "to_zoho", "both": "both"}


class FieldRule(msgspec.Struct, frozen=True):
    jira: str  # Jira field id (also the key of the field in the base)
    zoho: str  # Zoho API name
    kind: FieldKind
    direction: Direction

    @property
    def to_jira(self) -> bool:
        return self.direction in ("to_jira", "both")

    @property
    def to_zoho(self) -> bool:
        return self.direction in ("to_zoho", "both")


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    fields: tuple[FieldRule, ...] = ()
    status_to_jira: bool = False
    status_to_zoho: bool = False
    status_map: dict[str, str] = {}  # Zoho status → Jira status
    rule: SyncRule | None = None
    auto_create: bool = False
    conflict: ConflictPolicy = "latest"


def policy_for(sci: SciConfig, kinds: Mapping[str, FieldKind]) -> Policy:
    """``kinds``: the field type of each mapping (by Jira field id), from live metadata or
    the mapping's own ``type``."""
    mode_direction = MODE_DIRECTION[sci.mode]
    fields = tuple(
        FieldRule(m.jira, m.zoho, m.type or kinds.get(m.jira, "text"),
                  OWNER_DIRECTION[m.owner] if m.owner else mode_direction)
        for m in sci.mappings
    )
    status_on = sci.synchronized and sci.status_sync
    return Policy(
        fields=fields,
        status_to_jira=status_on or (sci.synchronized and sci.rule is not None),
        # Zoho Projects statuses follow Jira back; CRM status fields are read from Zoho.
        status_to_zoho=status_on and sci.zoho.system == "projects"
        and mode_direction == "both",
        status_map=dict(sci.status_map),
        rule=sci.rule if sci.synchronized else None,
        auto_create=sci.synchronized and sci.auto_create,
        conflict=sci.conflict_policy,
    )
