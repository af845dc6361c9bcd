"""Admin UI and JSON admin API served by the daemon's own HTTP server."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web

from bridge.runtime import Runtime
from bridge.ui import api, pages, sci_pages, zoho_signin
from bridge.ui.auth import access_middleware
from bridge.ui.format import FILTERS
from bridge.ui.security import security_headers, session_storage

HERE = Path(__file__).parent


def install(app: web.Application, runtime: Runtime) -> None:
    """Sessions, the access gate, templates, static files and every UI/API route."""
    app.middlewares.append(security_headers)
    aiohttp_session.setup(app, session_storage(runtime.config))
    app.middlewares.append(api.api_errors)
    app.middlewares.append(access_middleware(api.refuse, pages.refuse))
    environment = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined)
    environment.filters.update(FILTERS)
    app.router.add_static("/static/", HERE / "static")
    pages.add_routes(app, runtime.config.ui)
    zoho_signin.add_routes(app)
    sci_pages.add_routes(app)
    api.add_routes(app)
