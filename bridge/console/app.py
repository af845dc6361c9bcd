"""The simulator console, served beside the simulators (it is no part of the admin UI).

One page lists the simulated Jira issues, CRM cases and Projects tasks; each row's form
posts a new summary/subject/name, which goes through the simulator's API like any other
client's edit, then redirects back with what to watch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from yarl import URL

from bridge.console.client import SimulatorClient, SimulatorRefused

HERE = Path(__file__).parent
CLIENT_KEY = web.AppKey("console_client", SimulatorClient)
ADMIN_KEY = web.AppKey("console_admin_url", str)
TITLE_LIMIT = 255


def console_app(client: SimulatorClient, admin_url: str) -> web.Application:
    app = web.Application()
    app[CLIENT_KEY] = client
    app[ADMIN_KEY] = admin_url
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"),
                         autoescape=True, undefined=jinja2.StrictUndefined)
    app.router.add_get("/", page)
    app.router.add_post("/edit", edit)
    app.router.add_static("/static/", HERE / "static")
    return app


async def page(request: web.Request) -> web.Response:
    client = request.app[CLIENT_KEY]
    context: dict[str, Any] = {
        "admin_url": request.app[ADMIN_KEY],
        "saved": request.query.get("saved", ""), "watch": request.query.get("watch", ""),
        "error": request.query.get("error", ""),
        "sections": [
            ("Jira issues (SUP, ENG)", "Summary", client.jira_issues("SUP", "ENG")),
            ("Zoho CRM cases", "Subject", client.crm_cases()),
            ("Zoho Projects tasks (Mobile App)", "Name", client.projects_tasks()),
        ],
    }
    return aiohttp_jinja2.render_template("console.html", request, context)


async def edit(request: web.Request) -> web.Response:
    form = await request.post()
    system, item, label = (str(form.get(name, "")) for name in ("system", "id", "label"))
    title = str(form.get("title", "")).strip()
    client = request.app[CLIENT_KEY]
    edits = {"jira": lambda: client.edit_issue(item, {"summary": title}),
             "crm": lambda: client.edit_case(item, {"Subject": title}),
             "projects": lambda: client.edit_task(item, {"name": title})}
    if system not in edits:
        raise web.HTTPBadRequest(text="unknown system")
    if not 0 < len(title) <= TITLE_LIMIT:
        raise web.HTTPSeeOther(URL("/").with_query(
            error=f"{label}: a title needs 1 to {TITLE_LIMIT} characters"))
    try:
        await edits[system]()
    except SimulatorRefused as exc:
        raise web.HTTPSeeOther(URL("/").with_query(error=f"{label}: {exc}")) from None
    watch = label if system == "jira" else client.linked_issue(item) or label
    raise web.HTTPSeeOther(URL("/").with_query(saved=label, watch=watch))
