"""``/{module}/{id}/{related_list}``: Stage_History, Contact_Roles, Tasks and the other
related lists; ``PUT /Deals/{id}/Contact_Roles/{contact}`` gives a contact a role."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.zoho.simulator.crm.data import CONTACT_ROLES, DEFAULT_RELATED, RELATED_LISTS
from adapters.zoho.simulator.crm.records import API, data_rows, record_in_path
from adapters.zoho.simulator.crm.replies import CrmError, invalid_id, listing, success
from adapters.zoho.simulator.crm.store import CrmStore


class RelatedApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{API}/{{module}}/{{id}}/{{related}}", self.related)
        router.add_put(f"{API}/{{module:Deals}}/{{id}}/Contact_Roles/{{contact}}",
                       self.give_role)

    async def related(self, request: web.Request) -> web.Response:
        module, record = record_in_path(self.store, request)
        name = request.match_info["related"]
        if name not in RELATED_LISTS.get(module, DEFAULT_RELATED):
            raise CrmError(400, "INVALID_URL_PATTERN",
                           "Please check if the URL trying to access is a correct one")
        return listing(self._rows(name, record["id"]))

    async def give_role(self, request: web.Request) -> web.Response:
        _, deal = record_in_path(self.store, request)
        contact = self.store.find("Contacts", request.match_info["contact"])
        if contact is None:
            raise invalid_id(request.match_info["contact"])
        rows = await data_rows(request)
        role_id = str((rows[0].get("Contact_Role") or {}).get("id", ""))
        if role_id not in CONTACT_ROLES:
            raise CrmError(400, "INVALID_DATA", "invalid data",
                           {"api_name": "Contact_Role", "json_path": "$.data[0].Contact_Role"})
        self.store.contact_roles.setdefault(deal["id"], {})[contact["id"]] = role_id
        return web.json_response({"data": [success("relation updated",
                                                   {"id": contact["id"]})]})

    def _rows(self, name: str, record_id: str) -> list[dict[str, Any]]:
        if name == "Stage_History":
            return self.store.stage_history.get(record_id, [])
        if name == "Contact_Roles":
            return [self._with_role(contact_id, role_id) for contact_id, role_id in
                    self.store.contact_roles.get(record_id, {}).items()
                    if self.store.find("Contacts", contact_id) is not None]
        if name == "Tasks":
            return [t for t in self.store.module("Tasks").values()
                    if (t.get("What_Id") or {}).get("id") == record_id]
        return []

    def _with_role(self, contact_id: str, role_id: str) -> dict[str, Any]:
        contact = self.store.find("Contacts", contact_id) or {}
        name = " ".join(filter(None, (contact.get("First_Name"), contact.get("Last_Name"))))
        return {**contact, "Full_Name": name,
                "Contact_Role": {"id": role_id, "name": CONTACT_ROLES[role_id]}}
