"""Server-rendered admin pages: sign-in, connections, SCIs, history, dead letters.

Every form posts and redirects back (post/redirect/get) with a one-time message; the work
itself is done by ``bridge.admin.operations``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
import anyio
import msgspec
from aiohttp import web
from aiohttp_session import get_session
from yarl import URL

from adapters.zoho.datacenters import DATA_CENTERS
from bridge.admin import operations as ops
from bridge.admin import zoho_connect
from bridge.admin.passwords import spend_like_a_check, verify_password
from bridge.config import UiConfig, split_error
from bridge.http.keys import RUNTIME
from bridge.ui.auth import (
    IDENTITY,
    LoginLimiter,
    csrf_ok,
    csrf_token,
    identify,
    local_target,
    sign_in,
    sign_out,
)
from bridge.ui.openapi import DIRECTIONS

LIMITER = web.AppKey("login_limiter", LoginLimiter)
# Each argon2 check takes ~64 MiB for a moment: a burst of sign-ins waits its turn.
PASSWORD_CHECKS = web.AppKey("password_checks", anyio.CapacityLimiter)
FLASH = "flash"

# The connect form's fields and their labels (the messages name them).
CONNECT_FIELDS = {"mode": "Authentication mode", "data_center": "Data center",
                  "client_id": "Client ID",
                  "client_secret": "Client Secret", "code": "Code",
                  "accounts_url": "Accounts server", "api_url": "API server"}

ZOHO_CALLBACK_PATH = "/oauth/zoho/callback"  # Providers mode: Zoho returns people here

PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PanelAction = Callable[[web.Request], Awaitable[str]]  # what was done, for the message


# -- rendering ------------------------------------------------------------------------------
async def render(request: web.Request, template: str, context: dict[str, Any],
                 status: int = 200) -> web.Response:
    session = await get_session(request)
    messages = session.pop(FLASH, [])
    common = {
        "identity": request.get(IDENTITY), "csrf_token": await csrf_token(request),
        "messages": messages, "path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, {**common, **context},
                                          status=status)


async def flash(request: web.Request, kind: str, text: str) -> None:
    session = await get_session(request)
    session[FLASH] = [*session.get(FLASH, []), [kind, text]]


async def back(request: web.Request, kind: str, text: str, to: str) -> web.HTTPSeeOther:
    await flash(request, kind, text)
    return web.HTTPSeeOther(to)


async def refuse(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    """The access gate's refusal for people: an error page that says what to do."""
    return await render(request, "error.html", {"title": title, "detail": detail}, status)


def guarded(handler: PageHandler, fallback: str) -> PageHandler:
    """Turn an operation's ``AdminError`` into a message on ``fallback``."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ops.AdminError as exc:
            raise await back(request, "error", str(exc), fallback) from None

    return wrapper


# -- sign-in --------------------------------------------------------------------------------
async def home(request: web.Request) -> web.StreamResponse:
    if request[IDENTITY].role == "admin":
        raise web.HTTPSeeOther("/admin/connections")
    return await render(request, "home.html", {})


async def login_form(request: web.Request) -> web.StreamResponse:
    if await identify(request) is not None:
        raise web.HTTPSeeOther(local_target(request.query.get("next", "/")))
    return await render(request, "login.html",
                        {"next": request.query.get("next", "/"), "name": "", "error": ""})


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = local_target(str(form.get("next", "/")))

    async def again(error: str, status: int) -> web.Response:
        return await render(request, "login.html",
                            {"next": target, "name": name, "error": error}, status)

    if not await csrf_ok(request):
        return await again("The sign-in form expired. Please try again.", 403)
    limiter = request.app[LIMITER]
    keys = (f"address:{request.remote}", f"user:{name.lower()}")
    wait = limiter.wait_seconds(*keys)
    if wait > 0:
        return await again(f"Too many failed sign-ins. Try again in {int(wait) + 1} seconds.",
                           429)
    user = next((u for u in request.app[RUNTIME].config.ui.user if u.name == name), None)
    checks = request.app[PASSWORD_CHECKS]
    if user is None:
        await anyio.to_thread.run_sync(spend_like_a_check, password, limiter=checks)
        valid = False
    else:
        valid = await anyio.to_thread.run_sync(verify_password, user.password_hash, password,
                                               limiter=checks)
    if not valid:
        limiter.failed(*keys)
        return await again("Wrong user name or password.", 401)
    limiter.succeeded(*keys)
    await sign_in(request, name)
    raise web.HTTPSeeOther(target)


async def logout(request: web.Request) -> web.StreamResponse:
    await sign_out(request)
    raise web.HTTPSeeOther("/login")


# -- connections ----------------------------------------------------------------------------
async def connections_page(request: web.Request, *, failed: str = "", error: str = "",
                           typed: dict[str, str] | None = None,
                           status: int = 200) -> web.Response:
    """``failed``: the connection whose connect form is shown again with ``error`` and what
    was ``typed`` (never the secret or the code)."""
    found = await ops.connections(request.app[RUNTIME])
    return await render(request, "connections.html", {
        "connections": found, "data_centers": list(DATA_CENTERS), "failed": failed,
        "connect_error": error, "typed": typed or {},
        "callback_url": callback_url(request)}, status)


def callback_url(request: web.Request) -> str:
    """The redirect URI of the per-user sign-in; the Zoho client must list it exactly."""
    public = request.app[RUNTIME].config.daemon.public_url.rstrip("/")
    return (public or f"{request.scheme}://{request.host}") + ZOHO_CALLBACK_PATH


async def connect_zoho(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    form = await request.post()
    fields = {key: str(form.get(key, "")).strip() for key in CONNECT_FIELDS}
    fields["mode"] = fields["mode"] or "app"
    typed = {key: fields[key] for key in ("mode", "data_center", "client_id", "accounts_url",
                                           "api_url")}
    try:
        asked = msgspec.convert(fields, zoho_connect.ZohoConnectRequest)
        status = await zoho_connect.connect_zoho(request.app[RUNTIME], name, asked)
    except msgspec.ValidationError as exc:
        return await connections_page(request, failed=name, error=_connect_problem(exc),
                                      typed=typed, status=400)
    except ops.AdminError as exc:
        return await connections_page(request, failed=name, error=str(exc), typed=typed,
                                      status=409)
    raise await back(request, "ok", f"{status.title} is connected ({status.data_center} data "
                                    "center).", "/admin/connections")


def _connect_problem(exc: msgspec.ValidationError) -> str:
    _, key = split_error(exc)
    hint = {"data_center": "choose one of the nine data centers",
            "accounts_url": "leave it empty, or an http:// or https:// address",
            "api_url": "leave it empty, or an http:// or https:// address"}.get(
                key, "fill it in exactly as Zoho shows it (no spaces)")
    return f"{CONNECT_FIELDS.get(key, key)}: {hint}"


async def revoke_zoho(request: web.Request) -> web.StreamResponse:
    revoked = await zoho_connect.revoke_zoho(request.app[RUNTIME], request.match_info["name"])
    raise await back(request, "ok", f"{revoked.name}: {revoked.detail}.", "/admin/connections")


async def test_connection(request: web.Request) -> web.StreamResponse:
    status = await ops.probe_connection(request.app[RUNTIME], request.match_info["name"])
    if status.health == "ok":
        raise await back(request, "ok", f"{status.title}: connection works.", "/admin/connections")
    raise await back(request, "error", f"{status.title}: {status.problem or status.health}",
                     "/admin/connections")


# -- SCIs -----------------------------------------------------------------------------------
async def scis_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "scis.html", {"scis": await ops.scis(request.app[RUNTIME])})


async def sync_now(request: web.Request) -> web.StreamResponse:
    answer = await ops.sync_now(request.app[RUNTIME], request.match_info["sci_id"])
    raise await back(request, "ok", f"{answer.sci_id}: {answer.detail}.", "/admin/scis")


async def backfill(request: web.Request) -> web.StreamResponse:
    answer = await ops.backfill(request.app[RUNTIME], request.match_info["sci_id"])
    raise await back(request, "ok", f"{answer.sci_id}: {answer.detail}; the writes it queues "
                                    "show as “writes waiting” here.", "/admin/scis")


async def history_page(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    sci_id = request.match_info["sci_id"]
    direction = request.query.get("direction", "")
    direction = direction if direction in DIRECTIONS else ""
    errors_only = request.query.get("errors_only") == "true"
    conflicts_only = request.query.get("conflicts_only") == "true"
    detail = await ops.sci(runtime, sci_id)
    entries = await ops.history(runtime, sci_id, direction=direction, errors_only=errors_only,
                                conflicts_only=conflicts_only)
    return await render(request, "history.html", {
        "sci": detail.summary, "entries": entries, "direction": direction,
        "errors_only": errors_only, "conflicts_only": conflicts_only,
        "directions": DIRECTIONS})


# -- dead letters ---------------------------------------------------------------------------
def _dead_letters_url(sci_id: str) -> str:
    url = URL("/admin/dead-letters")
    return str(url.with_query(sci=sci_id) if sci_id else url)


async def dead_letters_page(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    sci_id = request.query.get("sci", "")
    return await render(request, "dead_letters.html", {
        "letters": await ops.dead_letters(runtime, sci_id), "sci_id": sci_id,
        "scis": [s.id for s in await ops.scis(runtime)]})


async def _form_sci(request: web.Request) -> str:
    return str((await request.post()).get("sci", ""))


async def replay(request: web.Request) -> web.StreamResponse:
    dead_id = ops.dead_letter_id(request.match_info["dead_id"])
    result = await ops.replay(request.app[RUNTIME], dead_id)
    target = _dead_letters_url(await _form_sci(request))
    raise await back(request, "ok", result.detail + ".", target)


async def replay_all(request: web.Request) -> web.StreamResponse:
    sci_id = await _form_sci(request)
    result = await ops.replay_all(request.app[RUNTIME], sci_id)
    raise await back(request, "ok", result.detail + ".", _dead_letters_url(sci_id))


async def discard(request: web.Request) -> web.StreamResponse:
    dead_id = ops.dead_letter_id(request.match_info["dead_id"])
    await ops.discard(request.app[RUNTIME], dead_id)
    raise await back(request, "ok", f"Dead letter {dead_id} discarded.",
                     _dead_letters_url(await _form_sci(request)))


# -- the issue panel --------------------------------------------------------------------------
def _panel_url(raw_key: str) -> str:
    return str(URL("/panel") / raw_key.strip().upper())


async def panel_lookup(request: web.Request) -> web.StreamResponse:
    """The home page's "open an issue" form: go to that issue's panel."""
    key = request.query.get("key", "").strip()
    if not key:
        raise await back(request, "error", "Type an issue key, like SUP-12.", "/")
    raise web.HTTPSeeOther(_panel_url(key))


async def panel_page(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    try:
        shown = await ops.panel(runtime, request.match_info["issue_key"])
    except ops.AdminError as exc:
        status = 404 if isinstance(exc, ops.NotFound) else 400 if isinstance(
            exc, ops.Invalid) else 409
        return await render(request, "error.html",
                            {"title": "Issue panel unavailable", "detail": str(exc)}, status)
    search = await _panel_search(request, {s.id for s in shown.scis})
    return await render(request, "panel.html", {"panel": shown, **search})


async def _panel_search(request: web.Request, applicable: set[str]) -> dict[str, Any]:
    """The search the page was asked for (``?sci=…&q=…``): its results or what went wrong."""
    sci_id, text = request.query.get("sci", ""), request.query.get("q", "")
    found: dict[str, Any] = {"search_sci": sci_id, "search_text": text, "results": None,
                             "search_error": ""}
    if not sci_id or sci_id not in applicable:
        return found
    try:
        found["results"] = await ops.search_records(request.app[RUNTIME], sci_id, text)
    except ops.AdminError as exc:
        found["search_error"] = str(exc)
    return found


def panel_guarded(handler: PanelAction) -> PageHandler:
    """Panel forms answer on the issue's panel: done or what went wrong."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        target = _panel_url(request.match_info["issue_key"])
        try:
            kind, text = "ok", await handler(request)
        except ops.AdminError as exc:
            kind, text = "error", str(exc)
        raise await back(request, kind, text, target)

    return wrapper


async def _form(request: web.Request, name: str) -> str:
    return str((await request.post()).get(name, "")).strip()


async def link(request: web.Request) -> str:
    made = await ops.link(request.app[RUNTIME], await _form(request, "sci"),
                          request.match_info["issue_key"], await _form(request, "record_id"))
    return f"Linked Zoho record {made.zoho_record_id} ({made.sci_name})."


async def refresh(request: web.Request) -> str:
    found = await ops.refresh(request.app[RUNTIME], request.match_info["link_id"])
    how = "; ".join(found.problems) or "in sync"
    return f"Refreshed Zoho record {found.zoho_record_id}: {how}."


async def unlink(request: web.Request) -> str:
    return (await ops.unlink(request.app[RUNTIME], request.match_info["link_id"])).detail + "."


def add_routes(app: web.Application, ui: UiConfig) -> None:
    app[LIMITER] = LoginLimiter(ui.login_attempts, ui.login_window)
    app[PASSWORD_CHECKS] = anyio.CapacityLimiter(2)
    routes = app.router
    routes.add_get("/", home)
    routes.add_get("/login", login_form)
    routes.add_post("/login", login)
    routes.add_post("/logout", logout)
    routes.add_get("/admin/connections", connections_page)
    routes.add_post("/admin/connections/{name}/test",
                    guarded(test_connection, "/admin/connections"))
    routes.add_post("/admin/connections/{name}/connect",
                    guarded(connect_zoho, "/admin/connections"))
    routes.add_post("/admin/connections/{name}/revoke",
                    guarded(revoke_zoho, "/admin/connections"))
    routes.add_get("/admin/scis", scis_page)
    routes.add_post("/admin/scis/{sci_id}/sync-now", guarded(sync_now, "/admin/scis"))
    routes.add_post("/admin/scis/{sci_id}/backfill", guarded(backfill, "/admin/scis"))
    routes.add_get("/admin/scis/{sci_id}/history", guarded(history_page, "/admin/scis"))
    routes.add_get("/admin/dead-letters", dead_letters_page)
    routes.add_post("/admin/dead-letters/replay-all", guarded(replay_all, "/admin/dead-letters"))
    routes.add_post("/admin/dead-letters/{dead_id:\\d+}/replay",
                    guarded(replay, "/admin/dead-letters"))
    routes.add_post("/admin/dead-letters/{dead_id:\\d+}/discard",
                    guarded(discard, "/admin/dead-letters"))
    routes.add_get("/panel", panel_lookup)
    routes.add_get("/panel/{issue_key}", panel_page)
    routes.add_post("/panel/{issue_key}/link", panel_guarded(link))
    routes.add_post("/panel/{issue_key}/links/{link_id}/refresh", panel_guarded(refresh))
    routes.add_post("/panel/{issue_key}/links/{link_id}/unlink", panel_guarded(unlink))
