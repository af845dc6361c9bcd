"""The SCI form pages: choose a mode, fill the form with live Jira and Zoho choices, create
or save; pause, resume and delete SCIs made here.

The form is a GET form: "Update choices" (and a select's change, when the static script
runs) re-renders it with the current values, so each choice fills the next pickers. Only
the final "Create SCI"/"Save" button posts, and only it carries the CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web

from bridge.admin import metadata, sci_edits
from bridge.admin import operations as ops
from bridge.admin.sci_edits import InvalidSci
from bridge.admin.views import JiraIssueTypeView, ZohoFieldView
from bridge.http.keys import RUNTIME
from bridge.runtime import Runtime
from bridge.sci import PROJECTS_DISPLAY_MODULES, PROJECTS_SYNC_MODULES
from bridge.ui import sci_form
from bridge.ui.pages import back, guarded, render
from bridge.ui.sci_form import MODES, Values

T = TypeVar("T")
Options = list[tuple[str, str]] | None  # (value, text); None: no list, type the value


@dataclass
class Choices:
    """What the pickers offer; a list that could not be read stays ``None``."""

    problems: list[str] = field(default_factory=list)
    jira_projects: Options = None
    issue_types: list[JiraIssueTypeView] | None = None
    jira_fields: Options = None
    modules: Options = None
    zoho_fields: list[ZohoFieldView] | None = None
    portals: Options = None
    projects: Options = None

    async def read(self, call: Awaitable[T]) -> T | None:
        try:
            return await call
        except ops.AdminError as exc:
            if str(exc) not in self.problems:
                self.problems.append(str(exc))
            return None


async def choices(runtime: Runtime, values: Values) -> Choices:
    found = Choices()
    mode, system = values.get("mode", ""), values.get("zoho.system") or "crm"
    projects = await found.read(metadata.jira_projects(runtime))
    if projects is not None:
        found.jira_projects = [(p.key, f"{p.key} · {p.name}") for p in projects]
    chosen = values.get("jira_projects", [])
    if mode != "display":
        if chosen:
            detail = await found.read(metadata.jira_project(runtime, chosen[0]))
            found.issue_types = detail.issue_types if detail else None
        fields = await found.read(metadata.jira_fields(runtime))
        if fields is not None:
            found.jira_fields = [(f.id, f"{f.name} ({f.id})") for f in fields]
    if system == "crm":
        await _crm_choices(runtime, found, values.get("zoho.module", ""))
    else:
        await _projects_choices(runtime, found, values)
    return found


async def _crm_choices(runtime: Runtime, found: Choices, module: str) -> None:
    modules = await found.read(metadata.crm_modules(runtime))
    if modules is not None:
        found.modules = [(m.api_name, m.label) for m in modules]
    if module:
        found.zoho_fields = await found.read(metadata.crm_fields(runtime, module))


async def _projects_choices(runtime: Runtime, found: Choices, values: Values) -> None:
    kinds = PROJECTS_DISPLAY_MODULES if values.get("mode") == "display" else PROJECTS_SYNC_MODULES
    found.modules = [(kind, kind.capitalize()) for kind in sorted(kinds)]
    portals = await found.read(metadata.projects_portals(runtime))
    if portals is not None:
        found.portals = [(p.id, p.name) for p in portals]
    portal, project = values.get("zoho.portal_id", ""), values.get("zoho.project_id", "")
    if portal:
        listed = await found.read(metadata.projects_of_portal(runtime, portal))
        found.projects = None if listed is None else [(p.id, p.name) for p in listed]
    if portal and project and values.get("zoho.module"):
        found.zoho_fields = await found.read(metadata.projects_fields(
            runtime, portal, project, values["zoho.module"]))


def _statuses(found: Choices, issue_type: str) -> Options:
    if found.issue_types is None:
        return None
    chosen = next((t for t in found.issue_types if t.name == issue_type), None)
    return None if chosen is None else [(s, s) for s in chosen.statuses]


async def _form(request: web.Request, values: Values, *, editing: str = "",
                errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    found = await choices(request.app[RUNTIME], values)
    fields = found.zoho_fields
    return await render(request, "sci_form.html", {
        "values": values, "editing": editing, "mode_title": MODES[values["mode"]][0],
        "errors": errors or {}, "choices": found,
        "zoho_options": None if fields is None else [(f.api_name, f.label) for f in fields],
        "picklists": {f.api_name: [(v, v) for v in f.picklist] for f in fields or [] if f.picklist},
        "issue_types": None if found.issue_types is None else [
            (t.name, t.name) for t in found.issue_types],
        "statuses": _statuses(found, str(values.get("jira_issue_type", ""))),
        "rows": sci_form.mapping_rows(values, add="add_row" in request.query),
    }, status)


# -- pages --------------------------------------------------------------------------------
async def new_page(request: web.Request) -> web.StreamResponse:
    mode = request.query.get("mode", "")
    if mode not in MODES:
        return await render(request, "sci_modes.html", {"modes": MODES})
    return await _form(request, {**sci_form.NEW, **sci_form.from_form(request.query),
                                 "mode": mode})


async def edit_page(request: web.Request) -> web.StreamResponse:
    current = sci_edits.editable(request.app[RUNTIME], request.match_info["sci_id"])
    asked = sci_form.from_form(request.query)
    values = asked if "mode" in asked else sci_form.from_sci(current)
    return await _form(request, {**values, "id": current.id, "mode": current.mode},
                       editing=current.id)


async def create(request: web.Request) -> web.StreamResponse:
    values = sci_form.from_form(await request.post())
    if values.get("mode") not in MODES:
        raise web.HTTPSeeOther("/admin/scis/new")
    try:
        made = await sci_edits.create_sci(request.app[RUNTIME], sci_form.definition(values))
    except ops.AdminError as exc:
        return await _refused(request, values, exc)
    raise await back(request, "ok", f"SCI {made.summary.name} created.", "/admin/scis")


async def save(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    current = sci_edits.editable(runtime, request.match_info["sci_id"])
    values = {**sci_form.from_form(await request.post()), "id": current.id,
              "mode": current.mode}
    try:
        saved = await sci_edits.update_sci(runtime, current.id, sci_form.definition(
            values, sci_form.kept_of(current)))
    except ops.AdminError as exc:
        return await _refused(request, values, exc, editing=current.id)
    raise await back(request, "ok", f"SCI {saved.summary.name} saved.", "/admin/scis")


async def _refused(request: web.Request, values: Values, exc: ops.AdminError, *,
                   editing: str = "") -> web.Response:
    """The form again with the values kept and the message at the top and at its input."""
    # Refused on a new SCI: its id is taken.
    key = (sci_form.error_key(exc, values) if isinstance(exc, InvalidSci)
           else "" if editing else "id")
    errors = {"": str(exc), **({key: str(exc)} if key else {})}
    status = 400 if isinstance(exc, ops.Invalid) else 409
    return await _form(request, values, editing=editing, errors=errors, status=status)


async def pause(request: web.Request) -> web.StreamResponse:
    done = await sci_edits.set_enabled(request.app[RUNTIME], request.match_info["sci_id"], False)
    raise await back(request, "ok", f"SCI {done.summary.name} paused.", "/admin/scis")


async def resume(request: web.Request) -> web.StreamResponse:
    done = await sci_edits.set_enabled(request.app[RUNTIME], request.match_info["sci_id"], True)
    raise await back(request, "ok", f"SCI {done.summary.name} resumed.", "/admin/scis")


async def delete(request: web.Request) -> web.StreamResponse:
    links = str((await request.post()).get("links", ""))
    if links not in ("keep", "remove"):
        raise ops.Invalid("choose whether the SCI's links are kept or removed")
    gone = await sci_edits.delete_sci(request.app[RUNTIME], request.match_info["sci_id"],
                                      keep_links=links == "keep")
    how = "its links are kept" if gone.links_kept else "its links were removed"
    raise await back(request, "ok", f"SCI {gone.sci_id} deleted; {how}.", "/admin/scis")


def add_routes(app: web.Application) -> None:
    routes, home = app.router, "/admin/scis"
    routes.add_get("/admin/scis/new", guarded(new_page, home))
    routes.add_post("/admin/scis", guarded(create, home))
    routes.add_get("/admin/scis/{sci_id}/edit", guarded(edit_page, home))
    routes.add_post("/admin/scis/{sci_id}", guarded(save, home))
    routes.add_post("/admin/scis/{sci_id}/pause", guarded(pause, home))
    routes.add_post("/admin/scis/{sci_id}/resume", guarded(resume, home))
    routes.add_post("/admin/scis/{sci_id}/delete", guarded(delete, home))
