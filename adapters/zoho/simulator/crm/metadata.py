"""Org, current user, modules and fields metadata (what the official SDK asks for first)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.zoho.simulator.crm.data import (
    MODULES,
    field_metadata,
    module_id,
    related_list_metadata,
)
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
    router.add_get(f"{API}/settings/related_lists", related_lists)


async def current_user(request: web.Request) -> web.Response:
    return web.json_response({"users": [{**OWNER, "full_name": OWNER["name"],
                                         "status": "active", "role": {"name": "CEO"},
                                         "profile": {"name": "Administrator"}}],
                              "info": {"count": 1, "more_records": False}})


async def modules(request: web.Request) -> web.Response:
    return web.json_response({"modules": [_module(n, api, name)
                                          for n, (api, (name, _, _)) in
                                          enumerate(MODULES.items())]})


def _module(index: int, api: str, name: str) -> dict[str, Any]:
    """A module entry with the keys the v8 OpenAPI lists and the live service fills."""
    return {
        "api_name": api, "module_name": name, "plural_label": name, "singular_label": name,
        "actual_plural_label": name, "actual_singular_label": name, "id": module_id(api),
        "api_supported": True, "generated_type": "default", "status": "visible",
        "visibility": 1, "visible": True, "show_as_tab": True, "sequence_number": index + 1,
        "creatable": True, "editable": True, "deletable": True, "viewable": True,
        "convertable": api == "Leads", "quick_create": True, "recycle_bin_on_delete": True,
        "feeds_required": False, "presence_sub_menu": False, "business_card_field_limit": 5,
        "web_link": None, "arguments": [], "description": None, "parent_module": {},
        "modified_time": None, "modified_by": None, "profile_count": 1,
        "profiles": [{"name": "Administrator", "id": "5551600000000000001"}]}


async def fields(request: web.Request) -> web.Response:
    return web.json_response({"fields": field_metadata(_module_param(request))})


async def related_lists(request: web.Request) -> web.Response:
    return web.json_response({"related_lists": related_list_metadata(_module_param(request))})


def _module_param(request: web.Request) -> str:
    module = request.query.get("module", "")
    if not module:
        raise missing_param("module")
    if module not in MODULES:
        raise CrmError(400, "INVALID_MODULE", "the module name given seems to be invalid",
                       {"param_name": "module"})
    return module
