"""The JSON admin API (``/api/v1``): thin handlers over ``bridge.admin.operations``.

Errors are ``application/problem+json`` (RFC 9457). The OpenAPI document describing these
routes is built in ``bridge.ui.openapi`` from the same view structs the handlers encode.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from aiohttp import web

from bridge.admin import metadata, sci_edits, zoho_connect
from bridge.admin import operations as ops
from bridge.admin.sci_edits import InvalidSci
from bridge.admin.views import LinkRequest, Me
from bridge.http.keys import RUNTIME
from bridge.ui.auth import IDENTITY, Handler, is_api
from bridge.ui.openapi import DIRECTIONS, document

log = structlog.get_logger("bridge.api")

PROBLEM_TYPE = "application/problem+json"
MAX_LIMIT = 1000


async def refuse(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    """The access gate's refusal for API callers."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, title, detail, headers)


def problem(status: int, title: str, detail: str,
            headers: dict[str, str] | None = None, **members: str) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            **members}
    return web.Response(status=status, body=msgspec.json.encode(body),
                        content_type=PROBLEM_TYPE, headers=headers)


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(value),
                        content_type="application/json")


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure under /api/ answers as problem+json, never as an HTML or text page."""
    if not is_api(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except ops.NotFound as exc:
        return problem(404, "Not found", str(exc))
    except ops.Refused as exc:
        return problem(409, "Refused", str(exc))
    except InvalidSci as exc:
        return problem(400, "Invalid SCI", str(exc), field=exc.field)
    except ops.Invalid as exc:
        return problem(400, "Bad request", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return problem(exc.status, exc.reason, exc.text or exc.reason, headers)
    except Exception:
        log.exception("api.failed", path=request.path)
        return problem(500, "Internal error", "the daemon log has the details")


# -- parameters ------------------------------------------------------------------------------
def _bad_request(detail: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=detail)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}")
    return int(raw)


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false")
    if raw not in ("true", "false"):
        raise _bad_request(f"{name} must be true or false, not {raw!r}")
    return raw == "true"


def _direction(request: web.Request) -> str:
    raw = request.query.get("direction", "")
    if raw and raw not in DIRECTIONS:
        raise _bad_request(f"direction must be one of {', '.join(DIRECTIONS)}, not {raw!r}")
    return raw


def _dead_id(request: web.Request) -> int:
    return ops.dead_letter_id(request.match_info["dead_id"])


# -- handlers ---------------------------------------------------------------------------------
async def openapi(request: web.Request) -> web.Response:
    return _json(document())


async def me(request: web.Request) -> web.Response:
    identity = request[IDENTITY]
    return _json(Me(name=identity.name, role=identity.role, via=identity.via))


async def list_connections(request: web.Request) -> web.Response:
    return _json(await ops.connections(request.app[RUNTIME]))


async def get_connection(request: web.Request) -> web.Response:
    return _json(await ops.connection(request.app[RUNTIME], request.match_info["name"]))


async def probe_connection(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return _json(await ops.probe_connection(request.app[RUNTIME], name))


async def connect_zoho(request: web.Request) -> web.Response:
    try:
        asked = msgspec.json.decode(await request.read(), type=zoho_connect.ZohoConnectRequest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _bad_request(f"the body must be a Zoho connect request: {exc}") from None
    return _json(await zoho_connect.connect_zoho(request.app[RUNTIME],
                                                 request.match_info["name"], asked))


async def revoke_zoho(request: web.Request) -> web.Response:
    return _json(await zoho_connect.revoke_zoho(request.app[RUNTIME],
                                                request.match_info["name"]))


async def list_scis(request: web.Request) -> web.Response:
    return _json(await ops.scis(request.app[RUNTIME]))


async def get_sci(request: web.Request) -> web.Response:
    return _json(await ops.sci(request.app[RUNTIME], request.match_info["sci_id"]))


async def _definition(request: web.Request) -> dict[str, Any]:
    try:
        raw = msgspec.json.decode(await request.read())
    except msgspec.DecodeError as exc:
        raise _bad_request(f"the body must be an SCI definition in JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise _bad_request("the body must be a JSON object: an SCI definition")
    return raw


async def create_sci(request: web.Request) -> web.Response:
    return _json(await sci_edits.create_sci(request.app[RUNTIME], await _definition(request)),
                 201)


async def update_sci(request: web.Request) -> web.Response:
    return _json(await sci_edits.update_sci(request.app[RUNTIME], request.match_info["sci_id"],
                                            await _definition(request)))


async def delete_sci(request: web.Request) -> web.Response:
    links = request.query.get("links", "keep")
    if links not in ("keep", "remove"):
        raise _bad_request(f"links must be keep or remove, not {links!r}")
    return _json(await sci_edits.delete_sci(request.app[RUNTIME], request.match_info["sci_id"],
                                            keep_links=links == "keep"))


async def pause_sci(request: web.Request) -> web.Response:
    return _json(await sci_edits.set_enabled(request.app[RUNTIME],
                                             request.match_info["sci_id"], False))


async def resume_sci(request: web.Request) -> web.Response:
    return _json(await sci_edits.set_enabled(request.app[RUNTIME],
                                             request.match_info["sci_id"], True))


async def sync_now(request: web.Request) -> web.Response:
    return _json(await ops.sync_now(request.app[RUNTIME], request.match_info["sci_id"]), 202)


async def backfill(request: web.Request) -> web.Response:
    return _json(await ops.backfill(request.app[RUNTIME], request.match_info["sci_id"]), 202)


async def history(request: web.Request) -> web.Response:
    entries = await ops.history(
        request.app[RUNTIME], request.match_info["sci_id"], direction=_direction(request),
        errors_only=_flag(request, "errors_only"),
        conflicts_only=_flag(request, "conflicts_only"), limit=_limit(request))
    return _json(entries)


async def list_dead_letters(request: web.Request) -> web.Response:
    return _json(await ops.dead_letters(request.app[RUNTIME], request.query.get("sci", "")))


async def replay(request: web.Request) -> web.Response:
    return _json(await ops.replay(request.app[RUNTIME], _dead_id(request)))


async def replay_all(request: web.Request) -> web.Response:
    return _json(await ops.replay_all(request.app[RUNTIME], request.query.get("sci", "")))


async def discard(request: web.Request) -> web.Response:
    await ops.discard(request.app[RUNTIME], _dead_id(request))
    return web.Response(status=204)


# -- live metadata for SCI definitions ------------------------------------------------------
async def jira_projects(request: web.Request) -> web.Response:
    return _json(await metadata.jira_projects(request.app[RUNTIME]))


async def jira_project(request: web.Request) -> web.Response:
    return _json(await metadata.jira_project(request.app[RUNTIME], request.match_info["key"]))


async def jira_fields(request: web.Request) -> web.Response:
    return _json(await metadata.jira_fields(request.app[RUNTIME]))


async def crm_modules(request: web.Request) -> web.Response:
    return _json(await metadata.crm_modules(request.app[RUNTIME]))


async def crm_fields(request: web.Request) -> web.Response:
    return _json(await metadata.crm_fields(request.app[RUNTIME], request.match_info["module"]))


async def projects_portals(request: web.Request) -> web.Response:
    return _json(await metadata.projects_portals(request.app[RUNTIME]))


async def projects_of_portal(request: web.Request) -> web.Response:
    return _json(await metadata.projects_of_portal(request.app[RUNTIME],
                                                   request.match_info["portal"]))


# -- the issue panel and links -------------------------------------------------------------
async def panel(request: web.Request) -> web.Response:
    return _json(await ops.panel(request.app[RUNTIME], request.match_info["issue_key"]))


async def search_records(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    issue_key, sci_id = request.match_info["issue_key"], request.query.get("sci", "")
    if sci_id not in {s.id for s in await ops.scis_for_issue(runtime, issue_key)}:
        raise ops.NotFound(f"no SCI {sci_id!r} applies to {issue_key}")
    return _json(await ops.search_records(runtime, sci_id, request.query.get("q", "")))


async def issue_links(request: web.Request) -> web.Response:
    return _json(await ops.links_for_issue(request.app[RUNTIME],
                                           request.match_info["issue_key"]))


async def sci_links(request: web.Request) -> web.Response:
    return _json(await ops.links_for_sci(request.app[RUNTIME], request.match_info["sci_id"]))


async def create_link(request: web.Request) -> web.Response:
    try:
        asked = msgspec.json.decode(await request.read(), type=LinkRequest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _bad_request(f"the body must be a link request: {exc}") from None
    made = await ops.link(request.app[RUNTIME], asked.sci_id, asked.issue_key, asked.record_id)
    return _json(made, 201)


async def get_link(request: web.Request) -> web.Response:
    return _json(await ops.get_link(request.app[RUNTIME], request.match_info["link_id"]))


async def delete_link(request: web.Request) -> web.Response:
    return _json(await ops.unlink(request.app[RUNTIME], request.match_info["link_id"]))


async def refresh_link(request: web.Request) -> web.Response:
    return _json(await ops.refresh(request.app[RUNTIME], request.match_info["link_id"]))


async def link_associated(request: web.Request) -> web.Response:
    return _json(await ops.associated(request.app[RUNTIME], request.match_info["link_id"]))


def add_routes(app: web.Application) -> None:
    api = "/api/v1"
    app.router.add_get(f"{api}/openapi.json", openapi)
    app.router.add_get(f"{api}/me", me)
    app.router.add_get(f"{api}/connections", list_connections)
    app.router.add_get(f"{api}/connections/{{name}}", get_connection)
    app.router.add_post(f"{api}/connections/{{name}}/test", probe_connection)
    app.router.add_post(f"{api}/connections/{{name}}/connect", connect_zoho)
    app.router.add_post(f"{api}/connections/{{name}}/revoke", revoke_zoho)
    app.router.add_get(f"{api}/scis", list_scis)
    app.router.add_post(f"{api}/scis", create_sci)
    app.router.add_get(f"{api}/scis/{{sci_id}}", get_sci)
    app.router.add_put(f"{api}/scis/{{sci_id}}", update_sci)
    app.router.add_delete(f"{api}/scis/{{sci_id}}", delete_sci)
    app.router.add_post(f"{api}/scis/{{sci_id}}/pause", pause_sci)
    app.router.add_post(f"{api}/scis/{{sci_id}}/resume", resume_sci)
    app.router.add_post(f"{api}/scis/{{sci_id}}/sync-now", sync_now)
    app.router.add_post(f"{api}/scis/{{sci_id}}/backfill", backfill)
    app.router.add_get(f"{api}/scis/{{sci_id}}/history", history)
    meta = f"{api}/metadata"
    app.router.add_get(f"{meta}/jira/projects", jira_projects)
    app.router.add_get(f"{meta}/jira/projects/{{key}}", jira_project)
    app.router.add_get(f"{meta}/jira/fields", jira_fields)
    app.router.add_get(f"{meta}/zoho/crm/modules", crm_modules)
    app.router.add_get(f"{meta}/zoho/crm/modules/{{module}}/fields", crm_fields)
    app.router.add_get(f"{meta}/zoho/projects/portals", projects_portals)
    app.router.add_get(f"{meta}/zoho/projects/portals/{{portal}}/projects", projects_of_portal)
    app.router.add_get(f"{api}/dead-letters", list_dead_letters)
    app.router.add_post(f"{api}/dead-letters/replay-all", replay_all)
    app.router.add_post(f"{api}/dead-letters/{{dead_id:\\d+}}/replay", replay)
    app.router.add_delete(f"{api}/dead-letters/{{dead_id:\\d+}}", discard)
    app.router.add_get(f"{api}/scis/{{sci_id}}/links", sci_links)
    app.router.add_get(f"{api}/panel/{{issue_key}}", panel)
    app.router.add_get(f"{api}/panel/{{issue_key}}/search", search_records)
    app.router.add_get(f"{api}/issues/{{issue_key}}/links", issue_links)
    app.router.add_post(f"{api}/links", create_link)
    app.router.add_get(f"{api}/links/{{link_id}}", get_link)
    app.router.add_delete(f"{api}/links/{{link_id}}", delete_link)
    app.router.add_post(f"{api}/links/{{link_id}}/refresh", refresh_link)
    app.router.add_get(f"{api}/links/{{link_id}}/associated", link_associated)
