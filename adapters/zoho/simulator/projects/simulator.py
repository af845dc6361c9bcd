"""Zoho Projects V3 simulator (plus the WorkDrive upload/download endpoints it relies on).

One aiohttp app serves ``/api/v3/...`` (``/api/v3.1`` for users), WorkDrive's
``/api/v1/upload`` and ``/api/v1/download/{id}``, and control endpoints under ``/_sim``
(``/_sim/settings`` holds the ``comments_bump_task`` switch, off by default).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.simulation import CONTROL_PREFIX, Faults, Handler, add_fault_routes, faults_middleware

from . import files, portal, records
from .common import STATE_KEY
from .errors import V3Error, invalid_token, not_found, scope_mismatch, wrong_url
from .seed import seed as seed_data
from .store import ProjectsState
from .throttle import RollingThrottle

ROOT = "/api/v3/portal/{portal}"
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")
# Most specific path word first: the OAuth scope module it needs.
_SCOPES = (("/timelogs", "timesheets"), ("/milestones", "milestones"), ("/bugs", "bugs"),
           ("/issues", "bugs"), ("/tasks", "tasks"), ("/tasklists", "tasklists"),
           ("/users", "users"), ("/settings", "projects"), ("/projects", "projects"),
           ("/portal", "portals"))
_OPERATIONS = {"GET": "READ", "POST": "CREATE", "PATCH": "UPDATE", "PUT": "UPDATE",
               "DELETE": "DELETE"}


def url_pattern(path: str) -> str:
    """The throttled "API": the path with its numeric ids blanked out."""
    return _ID_SEGMENT.sub("/{}", path)


def required_scope(method: str, path: str) -> tuple[str, str]:
    """(scope prefix, operation): WorkDrive's own scope for its file transfers, Zoho's
    "ZohoPC.files" for attaching files to tasks and issues, else the path's module."""
    if path.startswith("/api/v1/"):
        prefix = "WorkDrive.files"
    elif "/attachments" in path:
        prefix = "ZohoPC.files"
    else:
        prefix = "ZohoProjects." + next((name for word, name in _SCOPES if word in path),
                                        "portals")
    return prefix, _OPERATIONS.get(method, "READ")


class ZohoProjectsSimulator:
    def __init__(self, token_check: Callable[[str], bool], *,
                 scopes_for: Callable[[str], set[str]] | None = None,
                 throttle_limit: int = 100, throttle_window: float = 120.0,
                 lockout_minutes: float = 22.0, throttle_status: int = 400,
                 upload_limit: int = 128 * 1024 * 1024, seed: bool = True,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 faults: Faults | None = None, comments_bump_task: bool = False) -> None:
        self.token_check = token_check
        self.scopes_for = scopes_for
        self.throttle = RollingThrottle(throttle_limit, throttle_window, lockout_minutes,
                                        throttle_status, clock)
        self.upload_limit = upload_limit
        self.faults = faults or Faults()
        self.state = ProjectsState(now=now, comments_bump_task=comments_bump_task)
        self.requests = 0
        if seed:
            seed_data(self.state)

    @property
    def portal_id(self) -> str:
        return str(self.state.portal.get("id", ""))

    def sandbox_info(self, base_url: str) -> dict[str, Any]:
        base = base_url.rstrip("/")
        projects = {str(p["name"]): str(p["id"]) for p in self.state.projects.values()}
        return {"projects_api_url": base, "workdrive_api_url": base, "portal_id": self.portal_id,
                "project_ids": projects}

    def app(self) -> web.Application:
        # Bodies up to the WorkDrive upload limit reach the handler, which answers F6016.
        app = web.Application(middlewares=[faults_middleware(self.faults), self._guard],
                              client_max_size=self.upload_limit + 1024 * 1024)
        app[STATE_KEY] = self.state
        app[files.UPLOAD_LIMIT_KEY] = self.upload_limit
        for module in (portal, records, files):
            module.add_routes(app.router, ROOT)
        app.router.add_get("/_sim/state", self._sim_state)
        app.router.add_post("/_sim/throttle", self._sim_throttle)
        app.router.add_get("/_sim/settings", self._sim_settings)
        app.router.add_post("/_sim/settings", self._sim_settings)
        add_fault_routes(app, self.faults)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Auth, scope and throttle checks, then V3-shaped errors."""
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        try:
            token = self._authenticate(request)
            self.requests += 1
            if request.path.startswith("/api/v3"):
                refused = self.throttle.check(token, url_pattern(request.path))
                if refused is not None:
                    return refused
            portal_id = request.match_info.get("portal")
            if portal_id is not None and portal_id != self.portal_id:
                raise not_found("portal")
            return await handler(request)
        except V3Error as exc:
            return exc.response(request)
        except web.HTTPNotFound:
            return wrong_url().response(request)
        except web.HTTPMethodNotAllowed:
            return V3Error(400, "INVALID_METHOD", "Method not allowed",
                           field_name=request.method).response(request)

    def _authenticate(self, request: web.Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Zoho-oauthtoken" or not token or not self.token_check(token):
            raise invalid_token()
        if self.scopes_for is not None:
            prefix, operation = required_scope(request.method, request.path)
            granted = {s.lower() for s in self.scopes_for(token)}
            if not granted & {f"{prefix}.{operation}".lower(), f"{prefix}.all".lower()}:
                raise scope_mismatch()
        return token

    async def _sim_state(self, request: web.Request) -> web.Response:
        state = self.state
        return web.json_response({
            "portal_id": self.portal_id, "requests": self.requests,
            "projects": len(state.projects),
            "records": {m: len(r) for m, r in state.records.items()},
            "comments": sum(len(c) for c in state.comments.values()),
            "attachments": sum(len(a) for a in state.attachments.values()),
            "files": len(state.files), "throttle": self.throttle.state(),
            "faults": self.faults.public()})

    async def _sim_settings(self, request: web.Request) -> web.Response:
        """Switches: ``comments_bump_task`` (does a comment change bump its task?)."""
        if request.method == "POST":
            changes = await request.json()
            unknown = set(changes) - {"comments_bump_task"}
            value = changes.get("comments_bump_task", self.state.comments_bump_task)
            if unknown or not isinstance(value, bool):
                return web.json_response({"error": "known switch: comments_bump_task "
                                                   "(true or false)"}, status=400)
            self.state.comments_bump_task = value
        return web.json_response({"comments_bump_task": self.state.comments_bump_task})

    async def _sim_throttle(self, request: web.Request) -> web.Response:
        """Change throttle knobs at run time: limit, window, lockout_minutes, status."""
        changes = await request.json()
        for name in ("limit", "window", "lockout_minutes", "status"):
            if name in changes:
                setattr(self.throttle, name, type(getattr(self.throttle, name))(changes[name]))
        return web.json_response(self.throttle.state())
