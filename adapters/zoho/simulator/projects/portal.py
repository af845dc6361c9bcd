"""Portal-level and read-only project data: portals, users, projects, statuses, task lists,
milestones and time logs."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .common import listing, state_of
from .errors import invalid_value
from .query import page_of
from .store import MODULES


async def portals(request: web.Request) -> web.Response:
    return web.json_response([state_of(request).portal])  # V3 answers a bare array


async def portal(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).portal)


async def users(request: web.Request) -> web.Response:
    return listing("users", state_of(request).users, request.query)


async def projects(request: web.Request) -> web.Response:
    chunk, _ = page_of(list(state_of(request).projects.values()), request.query)
    return web.json_response(chunk) if chunk else web.Response(status=204)


async def project(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).project(request.match_info["project"]))


async def global_statuses(request: web.Request) -> web.Response:
    """Documented without ``is_closed_type``; clients learn the type from embedded statuses."""
    module = request.query.get("module", "")
    if module not in MODULES:
        raise invalid_value("module", "module must be tasks or issues.")
    items = [{k: s[k] for k in ("id", "name", "color_hexcode")}
             for s in state_of(request).statuses[module]]
    return listing("statuses", items, request.query)


async def tasklists(request: web.Request) -> web.Response:
    state = state_of(request)
    state.project(request.match_info["project"])
    return listing("tasklists", state.tasklists[request.match_info["project"]], request.query)


async def milestones(request: web.Request) -> web.Response:
    state = state_of(request)
    state.project(request.match_info["project"])
    return listing("milestones", state.milestones[request.match_info["project"]],
                   request.query, info_as_list=True)


def _module_param(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise invalid_value("module", "module must be JSON like {\"type\":\"task\"}.") from None
    if not isinstance(value, dict):
        raise invalid_value("module", "module must be a JSON object.")
    return value


async def timelogs(request: web.Request) -> web.Response:
    """Logs grouped by date, split into task, bug and general logs; 204 when none match."""
    state = state_of(request)
    state.project(request.match_info["project"])
    wanted = _module_param(request.query.get("module"))
    logs = [log for log in state.timelogs[request.match_info["project"]]
            if wanted is None or (log["module"]["type"] == wanted.get("type")
                                  and wanted.get("id") in (None, log["module"]["id"]))]
    if not logs:
        return web.Response(status=204)
    days: dict[str, dict[str, Any]] = {}
    for log in logs:
        day = days.setdefault(log["date"], {"date": log["date"], "tasklogs": [],
                                            "buglogs": [], "generallogs": []})
        kind = {"task": "tasklogs", "issue": "buglogs"}.get(log["module"]["type"], "generallogs")
        day[kind].append(log)
    return web.json_response({"timelogs": {"date": list(days.values())}})



def add_routes(router: web.UrlDispatcher, root: str) -> None:
    router.add_get("/api/v3/portals", portals)
    router.add_get(root, portal)
    router.add_get("/api/v3.1/portal/{portal}/users", users)
    router.add_get(root + "/projects", projects)
    router.add_get(root + "/projects/{project}", project)
    router.add_get(root + "/settings/global-statuses", global_statuses)
    router.add_get(root + "/projects/{project}/tasklists", tasklists)
    router.add_get(root + "/projects/{project}/milestones", milestones)
    router.add_get(root + "/projects/{project}/timelogs", timelogs)
