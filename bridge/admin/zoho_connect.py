"""Connecting Zoho CRM or Zoho Projects from the admin UI and API, and revoking it.

An admin enters the data center, the client's id and secret and a Self Client grant code;
the code is exchanged at once (it works once and expires within minutes), so a mistake is
reported while the admin is still looking. The app settings are kept in the store, the
secret sealed; SCIs and links are never touched by connecting or revoking.
"""

from __future__ import annotations

from typing import Annotated

import aiohttp
import msgspec
from msgspec import Meta

from adapters.http import RemoteError
from adapters.zoho.datacenters import data_center
from adapters.zoho.oauth import ZohoAuthRequired, ZohoOAuth
from bridge.admin.operations import Invalid, NotFound, Refused, connection
from bridge.admin.views import ConnectionStatus
from bridge.config import AuthMode, DataCenter
from bridge.connections import CRM, PROJECTS, ZohoLink, app_record, user_record
from bridge.runtime import Runtime
from bridge.store import Connection
from bridge.store.base import ConnectionKind
from bridge.tokens import StoreTokenStore

# Printable ASCII without spaces (as Zoho's ids, secrets and codes are): the same class in
# Python's and in JSON Schema's regular expressions.
Text = Annotated[str, Meta(min_length=1, max_length=500, pattern=r"^[!-~]+$")]
Code = Annotated[str, Meta(max_length=500, pattern=r"^[!-~]*$")]
Url = Annotated[str, Meta(max_length=500, pattern=r"^(https?://[!-~]+)?$")]
EXCHANGE_TIMEOUT = aiohttp.ClientTimeout(total=30)


class ZohoConnectRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    mode: AuthMode = "app"  # providers: per-user sign-in from the panel (Zoho CRM only)
    data_center: DataCenter
    client_id: Text
    client_secret: Text
    code: Code = ""  # app mode: the Self Client grant code, made with the required scopes
    # Advanced: other accounts/API hosts than the data center's (a private or test setup).
    accounts_url: Url = ""
    api_url: Url = ""


class Revoked(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    detail: str


def _kind(name: str) -> ConnectionKind:
    if name not in (CRM, PROJECTS):
        raise NotFound(f"no Zoho connection {name!r}; known: {CRM}, {PROJECTS}")
    return "zoho_crm" if name == CRM else "zoho_projects"


async def connect_zoho(runtime: Runtime, name: str,
                       request: ZohoConnectRequest) -> ConnectionStatus:
    """App mode: exchange the grant code. Providers mode: no app token at all, each panel
    user signs in. Either way the app settings are kept and what uses Zoho restarts;
    switching modes clears the other mode's tokens, never SCIs or links."""
    kind = _kind(name)
    if _declared_in_file(runtime, name):
        raise Refused(f"{name} is set up in the config file ([{name}]); change it there, "
                      "or remove that section to connect from here")
    if request.mode == "providers" and name != CRM:
        raise Invalid("Providers (per-user sign-in) is for Zoho CRM only; connect Zoho "
                      "Projects with App OAuth 2.0")
    if request.mode == "app" and not request.code:
        raise Invalid("Code: generate a Self Client code in the Zoho API Console with the "
                      "required scopes (App OAuth 2.0 needs one)")
    tokens = StoreTokenStore(runtime.store, kind)
    if request.mode == "app":
        await _exchange(name, request, tokens)
    else:
        await tokens.clear(name)
    await _forget_people(runtime, name, keep=request.mode == "providers")
    settings = {"mode": request.mode, "data_center": request.data_center,
                "client_id": request.client_id, "accounts_url": request.accounts_url,
                "api_url": request.api_url}
    await runtime.store.put_connection(Connection(
        name=app_record(name), kind=kind, settings=settings,
        secrets={"client_secret": request.client_secret}))
    await _apply(runtime)
    return await connection(runtime, name)


async def _forget_people(runtime: Runtime, name: str, *, keep: bool) -> None:
    """Drop the panel users' own sign-ins unless Providers mode stays on."""
    if keep:
        return
    for stored in await runtime.store.list_connections():
        if stored.name.startswith(user_record(name, "")):
            await runtime.store.delete_connection(stored.name)


async def _exchange(name: str, request: ZohoConnectRequest, tokens: StoreTokenStore) -> None:
    accounts = request.accounts_url or data_center(request.data_center).accounts
    async with aiohttp.ClientSession(timeout=EXCHANGE_TIMEOUT) as session:
        oauth = ZohoOAuth(name, client_id=request.client_id,
                          client_secret=request.client_secret, accounts_url=accounts,
                          session=session, store=tokens)
        try:
            await oauth.exchange_grant(request.code)
        except ZohoAuthRequired as exc:
            raise Refused("Zoho refused the grant code: "
                          + exc.message.removeprefix("authentication required: ")) from None
        except RemoteError as exc:
            raise Refused(f"the Zoho accounts server ({accounts}) could not be reached: "
                          f"{exc.message}") from None


async def revoke_zoho(runtime: Runtime, name: str) -> Revoked:
    """Revoke the refresh token at Zoho and forget it (and the app settings made here)."""
    _kind(name)
    link = _link(runtime, name)
    if link is None:
        raise Refused(f"{name} is not connected")
    try:
        await link.oauth.revoke()
    except RemoteError as exc:
        raise Refused(f"Zoho could not be reached to revoke the token: {exc.message}; "
                      "nothing was changed") from None
    await _forget_people(runtime, name, keep=False)
    detail = "revoked at Zoho; the stored tokens are gone; SCIs and links are kept"
    if _declared_in_file(runtime, name):
        detail += (f"; the config file still sets up [{name}]: remove its credentials "
                   "before the next reload, or it connects again")
    else:
        await runtime.store.delete_connection(app_record(name))
    await _apply(runtime)
    return Revoked(name=name, detail=detail)


def _declared_in_file(runtime: Runtime, name: str) -> bool:
    zoho = runtime.config.zoho
    return (zoho.crm if name == CRM else zoho.projects) is not None \
        and name not in runtime.ui_connections


def _link(runtime: Runtime, name: str) -> ZohoLink | None:
    if runtime.connections is None:
        raise Refused("connections can only be changed by the running daemon")
    current = runtime.connections()
    return current.crm if name == CRM else current.projects


async def _apply(runtime: Runtime) -> None:
    if runtime.apply_connections is not None:
        await runtime.apply_connections()
