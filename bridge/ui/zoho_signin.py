"""Per-user Zoho CRM sign-in for the issue panel (Providers mode).

``/oauth/zoho/start`` sends the signed-in person to Zoho's consent page with a signed,
short-lived ``state`` bound to them; ``/oauth/zoho/callback`` checks that state, exchanges
the code for the person's own tokens (kept encrypted in the store) and returns to the panel
they came from.
"""

from __future__ import annotations

import hashlib

from aiohttp import web
from aiohttp_session import get_session

from adapters.http import RemoteError
from adapters.zoho.oauth import StateSigner
from bridge.admin.operations import SIGN_IN_PATH
from bridge.admin.scopes import CRM_SCOPES
from bridge.connections import ZohoLink
from bridge.http.keys import RUNTIME
from bridge.ui.auth import IDENTITY, local_target
from bridge.ui.pages import ZOHO_CALLBACK_PATH, callback_url, refuse
from bridge.ui.security import session_key

RETURN_TO = "zoho_sign_in_next"  # session key: the panel to return to


def _signer(request: web.Request) -> StateSigner:
    key = session_key(request.app[RUNTIME].config)
    return StateSigner(hashlib.sha256(b"zoho sign-in state\0" + key).digest())


def _providers_link(request: web.Request) -> ZohoLink | None:
    runtime = request.app[RUNTIME]
    if not runtime.config.zoho.crm_providers or runtime.connections is None:
        return None
    return runtime.connections().crm


async def start(request: web.Request) -> web.StreamResponse:
    link = _providers_link(request)
    if link is None:
        return await refuse(request, 409, "Zoho CRM sign-in not in use",
                            "Zoho CRM is not in Providers mode: the panel uses the app's "
                            "connection, so there is nothing to sign in to")
    session = await get_session(request)
    session[RETURN_TO] = local_target(request.query.get("next", "/"))
    state = _signer(request).issue(request[IDENTITY].name)
    raise web.HTTPSeeOther(link.oauth.authorize_url(callback_url(request), CRM_SCOPES, state))


async def callback(request: web.Request) -> web.StreamResponse:
    link = _providers_link(request)
    if link is None:
        return await refuse(request, 409, "Zoho CRM sign-in not in use",
                            "Zoho CRM is not in Providers mode")
    person = request[IDENTITY].name
    if "error" in request.query:
        return await refuse(request, 400, "Zoho sign-in cancelled",
                            f"Zoho answered: {request.query['error']}; try again from the panel")
    try:
        if _signer(request).verify(request.query.get("state", "")) != person:
            raise ValueError("the sign-in was started by someone else")
    except (ValueError, KeyError) as exc:
        return await refuse(request, 400, "Zoho sign-in refused",
                            f"{exc}; start the sign-in again from the panel")
    try:
        await link.user_oauth(person).exchange_code(request.query.get("code", ""),
                                                    callback_url(request))
    except RemoteError as exc:
        return await refuse(request, 502, "Zoho sign-in failed", str(exc))
    session = await get_session(request)
    raise web.HTTPSeeOther(session.pop(RETURN_TO, "/"))


def add_routes(app: web.Application) -> None:
    app.router.add_get(SIGN_IN_PATH, start)
    app.router.add_get(ZOHO_CALLBACK_PATH, callback)
