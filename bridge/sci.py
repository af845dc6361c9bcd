"""Smart Connected Item definitions: what ties a Jira scope to one Zoho source.

Pure data with its invariants checked at decode time, so an invalid SCI never reaches an
actor and the error names the rule it breaks.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from bridge.sync.convert import FieldKind

Mode = Literal["display", "one_way", "two_way", "custom"]
Owner = Literal["zoho", "jira", "both"]

CRM_POLLING_MODULES = frozenset(
    {
        "Leads", "Contacts", "Accounts", "Deals", "Campaigns", "Calls", "Events", "Tasks",
        "Products", "Vendors", "Price_Books", "Quotes", "Sales_Orders", "Purchase_Orders",
        "Invoices", "Cases", "Solutions", "Appointments", "Services",
    }
)
PROJECTS_SYNC_MODULES = frozenset({"tasks", "issues"})
PROJECTS_DISPLAY_MODULES = frozenset({"tasks", "issues", "milestones", "timesheets"})


class _Base(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class ZohoSource(_Base, frozen=True, kw_only=True):
    system: Literal["crm", "projects"]
    module: str
    portal_id: str = ""
    project_id: str = ""
    workdrive_folder: str = ""  # Projects: the WorkDrive folder that receives copied files

    def __post_init__(self) -> None:
        if self.system == "crm":
            if self.portal_id or self.project_id or self.workdrive_folder:
                raise ValueError("portal_id/project_id/workdrive_folder only apply to Zoho "
                                 "Projects sources")
            return
        if not (self.portal_id and self.project_id):
            raise ValueError("Zoho Projects sources need portal_id and project_id")
        if self.module not in PROJECTS_DISPLAY_MODULES:
            raise ValueError(
                f"module {self.module!r} is not a Zoho Projects module; allowed: "
                + ", ".join(sorted(PROJECTS_DISPLAY_MODULES))
            )


class Mapping(_Base, frozen=True, kw_only=True):
    jira: str
    zoho: str
    owner: Owner | None = None  # only in custom mode
    type: FieldKind | None = None  # default: from the Zoho field's metadata


class SyncRule(_Base, frozen=True, kw_only=True):
    field: str
    operator: Literal["equals", "not_equals", "is_empty", "is_not_empty"]
    value: str = ""
    status_when_met: str
    status_when_not_met: str
    create_when_not_met: bool = False

    def __post_init__(self) -> None:
        needs_value = self.operator in ("equals", "not_equals")
        if needs_value and not self.value:
            raise ValueError(f"rule operator {self.operator!r} needs a value")
        if not needs_value and self.value:
            raise ValueError(f"rule operator {self.operator!r} takes no value")


class SciConfig(_Base, frozen=True, kw_only=True):
    id: str
    name: str
    mode: Mode
    jira_projects: list[str]
    jira_issue_type: str = ""
    zoho: ZohoSource
    enabled: bool = True
    poll_interval: float = 30.0
    mappings: list[Mapping] = []
    preview_fields: list[str] = []
    auto_create: bool = False
    status_sync: bool = False
    status_field: str = ""
    status_map: dict[str, str] = {}
    comments: bool = False
    comments_restricted: bool = False  # also copy Jira comments limited to a role/group
    attachments: bool = False
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_deletes: bool = False  # deleting an original deletes its copy
    associated_records: bool = False
    link_note: bool = True
    rule: SyncRule | None = None
    conflict_policy: Literal["latest", "zoho_wins", "jira_wins"] = "latest"
    user_map: dict[str, str] = {}  # Jira accountId → e-mail, for users who hide theirs

    @property
    def synchronized(self) -> bool:
        return self.mode != "display"

    def __post_init__(self) -> None:
        if not self.id.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"id {self.id!r} may only hold letters, digits, '-' and '_'")
        if not self.jira_projects:
            raise ValueError("jira_projects must name at least one Jira project")
        if self.poll_interval < 1:
            raise ValueError("poll_interval must be at least 1 second")
        if not 0 < self.attachment_max_bytes <= 10 * 1024 * 1024:
            raise ValueError("attachment_max_bytes must be between 1 and 10 MB")
        self._check_scope()
        self._check_features()
        self._check_mappings()

    def _check_scope(self) -> None:
        if not self.synchronized:
            return
        if len(self.jira_projects) != 1:
            raise ValueError("synchronized items scope exactly one Jira project")
        if not self.jira_issue_type:
            raise ValueError("synchronized items need jira_issue_type")
        if self.zoho.system == "projects" and self.zoho.module not in PROJECTS_SYNC_MODULES:
            raise ValueError(
                f"Zoho Projects module {self.zoho.module!r} is display-only; "
                "synchronized items use tasks or issues"
            )

    def _check_features(self) -> None:
        features = {
            "auto_create": self.auto_create, "status_sync": self.status_sync,
            "comments": self.comments, "comments_restricted": self.comments_restricted,
            "attachments": self.attachments,
            "rule": self.rule is not None, "mappings": bool(self.mappings),
        }
        if not self.synchronized:
            used = [name for name, on in features.items() if on]
            if used:
                raise ValueError(f"display items cannot use: {', '.join(used)}")
            return
        if self.status_sync and not self.status_field:
            raise ValueError("status_sync needs status_field (the Zoho status field)")
        if self.attachments and self.zoho.system == "projects" and not self.zoho.workdrive_folder:
            raise ValueError("attachments with Zoho Projects need zoho.workdrive_folder (the id "
                             "of the WorkDrive folder that receives files copied from Jira)")
        if (
            self.auto_create
            and self.zoho.system == "crm"
            and self.zoho.module not in CRM_POLLING_MODULES
        ):
            raise ValueError(
                f"auto_create needs a polling-ready CRM module, not {self.zoho.module!r}"
            )

    def _check_mappings(self) -> None:
        seen_jira: set[str] = set()
        seen_zoho: set[str] = set()
        for mapping in self.mappings:
            if (self.mode == "custom") != (mapping.owner is not None):
                raise ValueError(
                    "each mapping needs an owner in custom mode, and only in custom mode "
                    f"(mapping {mapping.jira} ↔ {mapping.zoho})"
                )
            if mapping.jira in seen_jira or mapping.zoho in seen_zoho:
                raise ValueError(f"field mapped twice: {mapping.jira} ↔ {mapping.zoho}")
            seen_jira.add(mapping.jira)
            seen_zoho.add(mapping.zoho)

    def applies_to(self, project_key: str, issue_type: str) -> bool:
        """Display items match by project; synchronized items by project + issue type."""
        if project_key not in self.jira_projects:
            return False
        return not self.synchronized or issue_type == self.jira_issue_type
