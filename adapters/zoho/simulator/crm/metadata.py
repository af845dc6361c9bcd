"""Org, current user, modules and fields metadata (what the official SDK asks for first)."""

from __future__ import annotations

from aiohttp import web

from adapters.zoho.simulator.crm.data import MODULES, field_metadata, module_id
from adapters.zoho.simulator.crm.records import API
from adapters.zoho.simulator.crm.replies import CrmError, missing_param
from adapters.zoho.simulator.crm.settings import CrmSettings
from adapters.zoho.simulator.crm.store import OWNER

ORG = {"id": "5551800000000000001", "zgid": "7000000001", "company_name": "Bridge Demo Inc.",
       "currency": "USD", "country": "United States", "domain_name": "org7000000001",
       "primary_email": OWNER["email"]}


def routes(router: web.UrlDispatcher, settings: CrmSettings) -> None:
    async def org(request: web.Request) -> web.Response:
        return web.json_response({"org": [{**ORG, "time_zone": settings.org_time_zone()}]})

    router.add_get(f"{API}/users", current_user)
    router.add_get(f"{API}/org", org)
    router.add_get(f"{API}/settings/modules", modules)
    router.add_get(f"{API}/settings/fields", fields)


async def current_user(request: web.Request) -> web.Response:
    return web.json_response({"users": [{**OWNER, "full_name": OWNER["name"],
                                         "status": "active", "role": {"name": "CEO"},
                                         "profile": {"name": "Administrator"}}],
                              "info": {"count": 1, "more_records": False}})


async def modules(request: web.Request) -> web.Response:
    return web.json_response({"modules": [
        {"api_name": api, "module_name": name, "plural_label": name, "singular_label": name,
         "api_supported": True, "generated_type": "default", "id": module_id(api),
         "creatable": True, "editable": True, "deletable": True, "viewable": True}
        for api, (name, _, _) in MODULES.items()]})


async def fields(request: web.Request) -> web.Response:
    module = request.query.get("module", "")
    if not module:
        raise missing_param("module")
    if module not in MODULES:
        raise CrmError(400, "INVALID_MODULE", "the module name given seems to be invalid",
                       {"param_name": "module"})
    return web.json_response({"fields": field_metadata(module)})
