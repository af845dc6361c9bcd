"""Live metadata from Jira and Zoho for the SCI form and the JSON API: projects, issue
types, statuses, fields, modules, portals.

Read through the running daemon's shared connections on each request (nothing is cached).
A remote failure is a ``Refused`` that names the side ("Jira could not be read: …"), so
the form can show it and fall back to typed values.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from adapters.http import RemoteError
from adapters.jira.client import JiraClient
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.projects import ZohoProjectsClient
from adapters.zoho.projects.client import Kind
from adapters.zoho.projects.views import ProjectRef
from bridge.admin.operations import CONNECTION_TITLES, NotFound, Refused, live_connections
from bridge.admin.views import (
    JiraFieldView,
    JiraIssueTypeView,
    JiraProjectDetail,
    JiraProjectView,
    PortalView,
    ZohoFieldView,
    ZohoModuleView,
    ZohoProjectView,
)
from bridge.runtime import Runtime
from bridge.sides.zoho_projects import KNOWN_KINDS

T = TypeVar("T")
JIRA = "Jira"
CRM = CONNECTION_TITLES["zoho.crm"]
PROJECTS = CONNECTION_TITLES["zoho.projects"]
PROJECTS_KINDS: dict[str, Kind] = {"tasks": "tasks", "issues": "issues"}


async def _read(side: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except RemoteError as exc:
        if exc.needs_attention:
            raise Refused(f"{side} authentication required: {exc}") from None
        raise Refused(f"{side} could not be read: {exc}") from None


def _jira(runtime: Runtime) -> JiraClient:
    jira = live_connections(runtime).jira
    if jira is None:
        raise Refused("no Jira connection is configured ([jira])")
    return jira


async def _crm(runtime: Runtime) -> ZohoCrmClient:
    link = live_connections(runtime).crm
    if link is None:
        raise Refused("no Zoho CRM connection is configured ([zoho.crm])")
    return await _read(CRM, link.crm_client())


async def _projects(runtime: Runtime) -> ZohoProjectsClient:
    link = live_connections(runtime).projects
    if link is None:
        raise Refused("no Zoho Projects connection is configured ([zoho.projects])")
    return await _read(PROJECTS, link.projects_client())


# -- Jira --------------------------------------------------------------------------------------
async def jira_projects(runtime: Runtime) -> list[JiraProjectView]:
    found = await _read(JIRA, _jira(runtime).projects())
    return [JiraProjectView(key=p["key"], name=p.get("name", p["key"])) for p in found]


async def jira_project(runtime: Runtime, key: str) -> JiraProjectDetail:
    """The project's issue types, each with the statuses its workflow uses."""
    jira = _jira(runtime)
    try:
        project = await jira.project(key)
        statuses = await jira.statuses(key)
    except RemoteError as exc:
        if exc.status == 404:
            raise NotFound(f"no Jira project {key!r} (or this account cannot see it)") from None
        raise Refused(f"Jira could not be read: {exc}") from None
    types = [JiraIssueTypeView(name=t["name"],
                               statuses=[s.name for s in statuses.get(t["name"], [])])
             for t in project.get("issueTypes", [])]
    return JiraProjectDetail(key=project["key"], name=project.get("name", key),
                             issue_types=types)


async def jira_fields(runtime: Runtime) -> list[JiraFieldView]:
    found = await _read(JIRA, _jira(runtime).fields())
    fields = [JiraFieldView(id=f["id"], name=f.get("name", f["id"]),
                            type=(f.get("schema") or {}).get("type", "")) for f in found]
    return sorted(fields, key=lambda f: f.name.lower())


# -- Zoho CRM ------------------------------------------------------------------------------------
async def crm_modules(runtime: Runtime) -> list[ZohoModuleView]:
    """Modules the CRM API can use (``api_supported``)."""
    crm = await _crm(runtime)
    found = await _read(CRM, crm.modules())
    return [ZohoModuleView(api_name=m["api_name"],
                           label=m.get("plural_label") or m.get("module_name") or m["api_name"])
            for m in found if m.get("api_supported", True)]


async def crm_fields(runtime: Runtime, module: str) -> list[ZohoFieldView]:
    crm = await _crm(runtime)
    if module not in {m["api_name"] for m in await _read(CRM, crm.modules())}:
        raise NotFound(f"no Zoho CRM module {module!r}")
    return [_crm_field(f) for f in await _read(CRM, crm.fields(module))]


def _crm_field(raw: dict[str, Any]) -> ZohoFieldView:
    picklist = [str(v.get("display_value") or v.get("actual_value") or "")
                for v in raw.get("pick_list_values") or []]
    return ZohoFieldView(api_name=raw["api_name"], label=raw.get("field_label") or raw["api_name"],
                         type=raw.get("data_type", ""), picklist=[v for v in picklist if v])


# -- Zoho Projects -----------------------------------------------------------------------------
async def projects_portals(runtime: Runtime) -> list[PortalView]:
    client = await _projects(runtime)
    return [PortalView(id=p.id, name=p.portal_name or p.org_name or p.id)
            for p in await _read(PROJECTS, client.portals())]


async def projects_of_portal(runtime: Runtime, portal_id: str) -> list[ZohoProjectView]:
    client = await _projects(runtime)
    if portal_id not in {p.id for p in await _read(PROJECTS, client.portals())}:
        raise NotFound(f"no Zoho Projects portal {portal_id!r}")
    return [ZohoProjectView(id=p.id, name=p.name)
            for p in await _read(PROJECTS, client.projects(portal_id))]


async def projects_fields(runtime: Runtime, portal_id: str, project_id: str,
                          kind: str) -> list[ZohoFieldView]:
    """A task's or issue's built-in fields; ``status`` lists the module's statuses."""
    module = PROJECTS_KINDS.get(kind)
    if module is None:
        return []
    client = await _projects(runtime)
    statuses = await _read(PROJECTS, client.statuses(ProjectRef(portal_id, project_id), module))
    status = ZohoFieldView(api_name="status", label="Status", type="picklist",
                           picklist=[s.name for s in statuses if s.name])
    return [status, *(ZohoFieldView(api_name=name, label=name.replace("_", " ").capitalize(),
                                    type=field_kind) for name, field_kind in KNOWN_KINDS.items())]
