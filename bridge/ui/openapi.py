"""The OpenAPI 3.1 document of ``/api/v1``; response schemas come from the view structs."""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

import msgspec

from bridge import __version__
from bridge.admin.operations import MAX_ID
from bridge.admin.views import (
    ISSUE_KEY_PATTERN,
    MIN_SEARCH,
    AssociatedRecords,
    ConnectionStatus,
    DeadLetterView,
    JiraFieldView,
    JiraProjectDetail,
    JiraProjectView,
    LinkRequest,
    LinkView,
    Me,
    Panel,
    PortalView,
    RecordPreview,
    ReplayResult,
    SciDeleted,
    SciDetail,
    SciSummary,
    SyncRequest,
    Unlinked,
    ZohoFieldView,
    ZohoModuleView,
    ZohoProjectView,
)
from bridge.admin.zoho_connect import Revoked, ZohoConnectRequest
from bridge.sci import SciConfig
from bridge.store import SyncEntry

DIRECTIONS: tuple[str, ...] = typing.get_args(typing.get_type_hints(SyncEntry)["direction"])
REF = "#/components/schemas/{name}"

_MODELS: dict[str, Any] = {
    "Me": Me, "Connection": ConnectionStatus, "Connections": list[ConnectionStatus],
    "Scis": list[SciSummary], "Sci": SciDetail, "SyncRequest": SyncRequest,
    "History": list[SyncEntry], "DeadLetters": list[DeadLetterView], "Replay": ReplayResult,
    "Panel": Panel, "Records": list[RecordPreview], "Link": LinkView, "Links": list[LinkView],
    "LinkRequest": LinkRequest, "Unlinked": Unlinked, "Associated": AssociatedRecords,
    "SciDefinition": SciConfig, "SciDeleted": SciDeleted,
    "ZohoConnectRequest": ZohoConnectRequest, "Revoked": Revoked,
    "JiraProjects": list[JiraProjectView], "JiraProject": JiraProjectDetail,
    "JiraFields": list[JiraFieldView], "ZohoModules": list[ZohoModuleView],
    "ZohoFields": list[ZohoFieldView], "ZohoPortals": list[PortalView],
    "ZohoProjects": list[ZohoProjectView],
}

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "field": {"type": "string", "description": "an invalid SCI definition: the key at "
                                                   "fault, dotted (zoho.module)"},
    },
}
_REASONS = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
            409: "Refused"}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": _REASONS[code],
                        "content": {"application/problem+json": {
                            "schema": {"$ref": REF.format(name="Problem")}}}}
            for code in (401, 403, *codes)}


def _operation(summary: str, model: str | None, *, status: int = 200,
               errors: tuple[int, ...] = (), parameters: list[Any] | None = None,
               tag: str = "admin", body: str | None = None) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": summary}
    if model is not None:
        ok["content"] = {"application/json": {"schema": {"$ref": REF.format(name=model)}}}
    operation = {"summary": summary, "tags": [tag],
                 "operationId": summary.lower().replace(" ", "_"),
                 "parameters": parameters or [],
                 "responses": {str(status): ok, **_problems(*errors)}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": {"$ref": REF.format(name=body)}}}}
    return operation


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _paths() -> dict[str, Any]:
    connection = _path("name", {"type": "string", "enum": ["jira", "zoho.crm", "zoho.projects"]})
    zoho = _path("name", {"type": "string", "enum": ["zoho.crm", "zoho.projects"]})
    sci = _path("sci_id", {"type": "string", "minLength": 1})
    dead = _path("dead_id", {"type": "integer", "minimum": 0, "maximum": MAX_ID})
    sci_filter = _query("sci", {"type": "string"}, "only this SCI's dead letters")
    history_filters = [
        _query("direction", {"type": "string", "enum": list(DIRECTIONS)}, "one direction only"),
        _query("conflicts_only", {"type": "string", "enum": ["true", "false"]},
               "only entries with a conflict (field changed on both sides, both values)"),
        _query("errors_only", {"type": "string", "enum": ["true", "false"]},
               "only entries with errors"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000},
               "at most this many entries (default 100)"),
    ]
    return {
        "/api/v1/me": {"get": _operation("Who am I", "Me", tag="any role")},
        "/api/v1/connections": {"get": _operation("List connections", "Connections")},
        "/api/v1/connections/{name}": {"get": _operation(
            "Get connection", "Connection", errors=(404,), parameters=[connection])},
        "/api/v1/connections/{name}/test": {"post": _operation(
            "Test connection", "Connection", errors=(404, 409), parameters=[connection])},
        "/api/v1/connections/{name}/connect": {"post": _operation(
            "Connect Zoho", "Connection", errors=(400, 404, 409), parameters=[zoho],
            body="ZohoConnectRequest")},
        "/api/v1/connections/{name}/revoke": {"post": _operation(
            "Revoke Zoho connection", "Revoked", errors=(404, 409), parameters=[zoho])},
        "/api/v1/scis": {
            "get": _operation("List SCIs", "Scis"),
            "post": _operation("Create SCI", "Sci", status=201, errors=(400, 409),
                               body="SciDefinition")},
        "/api/v1/scis/{sci_id}": {
            "get": _operation("Get SCI", "Sci", errors=(404,), parameters=[sci]),
            "put": _operation("Update SCI", "Sci", errors=(400, 404, 409), parameters=[sci],
                              body="SciDefinition"),
            "delete": _operation(
                "Delete SCI", "SciDeleted", errors=(400, 404, 409), parameters=[
                    sci, _query("links", {"type": "string", "enum": ["keep", "remove"]},
                                "keep the SCI's links for an SCI made again with its id "
                                "(default), or remove them")])},
        "/api/v1/scis/{sci_id}/pause": {"post": _operation(
            "Pause SCI", "Sci", errors=(404, 409), parameters=[sci])},
        "/api/v1/scis/{sci_id}/resume": {"post": _operation(
            "Resume SCI", "Sci", errors=(404, 409), parameters=[sci])},
        "/api/v1/scis/{sci_id}/sync-now": {"post": _operation(
            "Sync SCI now", "SyncRequest", status=202, errors=(404, 409), parameters=[sci])},
        "/api/v1/scis/{sci_id}/backfill": {"post": _operation(
            "Backfill SCI", "SyncRequest", status=202, errors=(404, 409), parameters=[sci])},
        "/api/v1/scis/{sci_id}/history": {"get": _operation(
            "SCI history", "History", errors=(400, 404), parameters=[sci, *history_filters])},
        "/api/v1/dead-letters": {"get": _operation(
            "List dead letters", "DeadLetters", parameters=[sci_filter])},
        "/api/v1/dead-letters/replay-all": {"post": _operation(
            "Replay all dead letters", "Replay", parameters=[sci_filter])},
        "/api/v1/dead-letters/{dead_id}/replay": {"post": _operation(
            "Replay dead letter", "Replay", errors=(404,), parameters=[dead])},
        "/api/v1/dead-letters/{dead_id}": {"delete": _operation(
            "Discard dead letter", None, status=204, errors=(404,), parameters=[dead])},
        **_link_paths(sci),
        **_metadata_paths(),
    }


def _metadata_paths() -> dict[str, Any]:
    key = _path("key", {"type": "string", "minLength": 1})
    module = _path("module", {"type": "string", "minLength": 1})
    portal = _path("portal", {"type": "string", "minLength": 1})
    tag, meta = "metadata", "/api/v1/metadata"
    return {
        f"{meta}/jira/projects": {"get": _operation(
            "Jira projects", "JiraProjects", errors=(409,), tag=tag)},
        f"{meta}/jira/projects/{{key}}": {"get": _operation(
            "Jira project", "JiraProject", errors=(404, 409), parameters=[key], tag=tag)},
        f"{meta}/jira/fields": {"get": _operation(
            "Jira fields", "JiraFields", errors=(409,), tag=tag)},
        f"{meta}/zoho/crm/modules": {"get": _operation(
            "Zoho CRM modules", "ZohoModules", errors=(409,), tag=tag)},
        f"{meta}/zoho/crm/modules/{{module}}/fields": {"get": _operation(
            "Zoho CRM fields", "ZohoFields", errors=(404, 409), parameters=[module], tag=tag)},
        f"{meta}/zoho/projects/portals": {"get": _operation(
            "Zoho Projects portals", "ZohoPortals", errors=(409,), tag=tag)},
        f"{meta}/zoho/projects/portals/{{portal}}/projects": {"get": _operation(
            "Zoho Projects projects", "ZohoProjects", errors=(404, 409), parameters=[portal],
            tag=tag)},
    }


def _link_paths(sci: dict[str, Any]) -> dict[str, Any]:
    issue = _path("issue_key", {"type": "string", "pattern": ISSUE_KEY_PATTERN})
    link = _path("link_id", {"type": "string", "minLength": 1})
    search = [{**_query("sci", {"type": "string"}, "the SCI whose Zoho source is searched"),
               "required": True},
              {**_query("q", {"type": "string", "pattern": r"\S.*\S"},
                        f"at least {MIN_SEARCH} characters: a name/title or a record id"),
               "required": True}]
    panel = "issue panel"
    return {
        "/api/v1/scis/{sci_id}/links": {"get": _operation(
            "SCI links", "Links", errors=(404,), parameters=[sci])},
        "/api/v1/panel/{issue_key}": {"get": _operation(
            "Issue panel", "Panel", errors=(400, 404, 409), parameters=[issue], tag=panel)},
        "/api/v1/panel/{issue_key}/search": {"get": _operation(
            "Search records", "Records", errors=(400, 404, 409), parameters=[issue, *search],
            tag=panel)},
        "/api/v1/issues/{issue_key}/links": {"get": _operation(
            "Issue links", "Links", errors=(400,), parameters=[issue], tag=panel)},
        "/api/v1/links": {"post": _operation(
            "Create link", "Link", status=201, errors=(400, 404, 409), tag=panel,
            body="LinkRequest")},
        "/api/v1/links/{link_id}": {
            "get": _operation("Get link", "Link", errors=(404,), parameters=[link], tag=panel),
            "delete": _operation("Unlink", "Unlinked", errors=(404, 409), parameters=[link],
                                 tag=panel)},
        "/api/v1/links/{link_id}/refresh": {"post": _operation(
            "Refresh link", "Link", errors=(404, 409), parameters=[link], tag=panel)},
        "/api/v1/links/{link_id}/associated": {"get": _operation(
            "Associated records", "Associated", errors=(404, 409), parameters=[link],
            tag=panel)},
    }


@cache
def document() -> dict[str, Any]:
    roots, components = msgspec.json.schema_components(list(_MODELS.values()), ref_template=REF)
    # A struct's root is a bare reference to its own component: keep the component.
    named = {name: root for name, root in zip(_MODELS, roots, strict=True)
             if root != {"$ref": REF.format(name=name)}}
    schemas = {**components, **named, "Problem": PROBLEM}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Zoho ⇄ Jira bridge admin API", "version": __version__,
                 "description": "Admin operations of the bridge daemon. Authenticate with "
                                "an API token (`bridge token create --role admin`) as a "
                                "Bearer token, or with a signed-in session (state-changing "
                                "requests then need the X-CSRF-Token header)."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _paths(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "bridge_session"},
            },
        },
    }
