"""A standard Zoho CRM org: the polling-ready modules, their fields and picklists, samples."""

from __future__ import annotations

from typing import Any

PICKLISTS: dict[str, list[str]] = {
    "Stage": ["Qualification", "Needs Analysis", "Value Proposition", "Proposal/Price Quote",
              "Negotiation/Review", "Closed Won", "Closed Lost"],
    "Lead_Status": ["Not Contacted", "Attempted to Contact", "Contacted", "Qualified",
                    "Lost Lead"],
    "Status": ["New", "On Hold", "Escalated", "Closed"],
    "Priority": ["High", "Medium", "Low"],
    "Type": ["Existing Business", "New Business"],
    # module-specific lists win over the shared ones above
    "Tasks.Status": ["Not Started", "Deferred", "In Progress", "Completed",
                     "Waiting for input"],
    "Campaigns.Status": ["Planning", "Active", "Inactive", "Complete"],
    "Solutions.Status": ["Draft", "Reviewed", "Published"],
    "Invoices.Status": ["Created", "Approved", "Delivered", "Paid", "Cancelled"],
    "Sales_Orders.Status": ["Created", "Approved", "Delivered", "Cancelled"],
    "Purchase_Orders.Status": ["Created", "Approved", "Delivered", "Cancelled"],
}

# module → (display name, [(api_name, data_type)], name field)
MODULES: dict[str, tuple[str, list[tuple[str, str]], str]] = {
    "Leads": ("Leads", [("Last_Name", "text"), ("First_Name", "text"), ("Company", "text"),
                        ("Email", "email"), ("Lead_Status", "picklist"),
                        ("Description", "textarea")], "Last_Name"),
    "Contacts": ("Contacts", [("Last_Name", "text"), ("First_Name", "text"),
                              ("Email", "email"), ("Phone", "phone")], "Last_Name"),
    "Accounts": ("Accounts", [("Account_Name", "text"), ("Website", "website"),
                              ("Industry", "text")], "Account_Name"),
    "Deals": ("Deals", [("Deal_Name", "text"), ("Stage", "picklist"), ("Amount", "currency"),
                        ("Closing_Date", "date"), ("Type", "picklist"),
                        ("Description", "textarea")], "Deal_Name"),
    "Campaigns": ("Campaigns", [("Campaign_Name", "text"), ("Status", "picklist")],
                  "Campaign_Name"),
    "Calls": ("Calls", [("Subject", "text"), ("Call_Start_Time", "datetime")], "Subject"),
    "Events": ("Meetings", [("Event_Title", "text"), ("Start_DateTime", "datetime")],
               "Event_Title"),
    "Tasks": ("Tasks", [("Subject", "text"), ("Status", "picklist"), ("Due_Date", "date"),
                        ("Priority", "picklist"), ("What_Id", "lookup")], "Subject"),
    "Products": ("Products", [("Product_Name", "text"), ("Unit_Price", "currency")],
                 "Product_Name"),
    "Vendors": ("Vendors", [("Vendor_Name", "text"), ("Email", "email")], "Vendor_Name"),
    "Price_Books": ("Price Books", [("Price_Book_Name", "text")], "Price_Book_Name"),
    "Quotes": ("Quotes", [("Subject", "text"), ("Grand_Total", "currency")], "Subject"),
    "Sales_Orders": ("Sales Orders", [("Subject", "text"), ("Status", "picklist")], "Subject"),
    "Purchase_Orders": ("Purchase Orders", [("Subject", "text"), ("Status", "picklist")],
                        "Subject"),
    "Invoices": ("Invoices", [("Subject", "text"), ("Status", "picklist")], "Subject"),
    "Cases": ("Cases", [("Subject", "text"), ("Status", "picklist"), ("Priority", "picklist"),
                        ("Description", "textarea")], "Subject"),
    "Solutions": ("Solutions", [("Solution_Title", "text"), ("Status", "picklist")],
                  "Solution_Title"),
    "Appointments": ("Appointments", [("Appointment_Name", "text"),
                                      ("Appointment_Start_Time", "datetime")],
                     "Appointment_Name"),
    "Services": ("Services", [("Service_Name", "text"), ("Price", "currency")], "Service_Name"),
}
JSON_TYPES = {"text": "string", "email": "string", "phone": "string", "website": "string",
              "textarea": "string", "picklist": "string", "currency": "double",
              "date": "string", "datetime": "string", "lookup": "jsonobject"}
RELATED_LISTS: dict[str, list[str]] = {
    "Deals": ["Stage_History", "Contact_Roles", "Tasks", "Notes", "Attachments"],
    "Cases": ["Tasks", "Notes", "Attachments"],
}
DEFAULT_RELATED = ["Tasks", "Notes", "Attachments"]
# related list → (display label, the module its rows come from)
RELATED_LIST_INFO: dict[str, tuple[str, str]] = {
    "Stage_History": ("Stage History", "DealHistory"),
    "Contact_Roles": ("Contact Roles", "Contacts"),
    "Tasks": ("Tasks", "Tasks"),
    "Notes": ("Notes", "Notes"),
    "Attachments": ("Attachments", "Attachments"),
}
CONTACT_ROLES = {"5551500000000000001": "Decision Maker", "5551500000000000002": "Evaluator",
                 "5551500000000000003": "Purchasing"}

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "Deals": [{"Deal_Name": "Acme renewal", "Stage": "Qualification", "Amount": 12000.0,
               "Type": "Existing Business"},
              {"Deal_Name": "Globex expansion", "Stage": "Needs Analysis", "Amount": 48000.0,
               "Type": "New Business"}],
    "Cases": [{"Subject": "Invoices fail to export", "Status": "New", "Priority": "High"},
              {"Subject": "Password reset loop", "Status": "Escalated", "Priority": "Medium"}],
    "Leads": [{"Last_Name": "Lovelace", "First_Name": "Ada", "Company": "Analytical Engines",
               "Email": "ada@example.com", "Lead_Status": "Contacted"}],
    "Contacts": [{"Last_Name": "Hopper", "First_Name": "Grace", "Email": "grace@example.com"}],
    "Accounts": [{"Account_Name": "Acme Corp", "Industry": "Manufacturing"}],
}


SYSTEM_FIELDS = {"id": "bigint", "Created_Time": "datetime", "Modified_Time": "datetime",
                 "Created_By": "ownerlookup", "Modified_By": "ownerlookup",
                 "Owner": "ownerlookup"}
# modules whose changes notify, beside the record modules: child records of a parent
CHILD_MODULES = ("Notes", "Attachments")


def module_id(module: str) -> str:
    names = [*MODULES, *CHILD_MODULES]
    return f"5551700000000{names.index(module):06d}"


def field_types(module: str) -> dict[str, str] | None:
    """Every queryable field's data type (system fields included); None: no such module."""
    if module not in MODULES:
        return None
    return {**SYSTEM_FIELDS, **dict(MODULES[module][1])}


def picklist(module: str, api_name: str) -> list[str]:
    return PICKLISTS.get(f"{module}.{api_name}") or PICKLISTS.get(api_name, [])


def field_metadata(module: str) -> list[dict[str, Any]]:
    """``settings/fields`` entries with the keys the v8 OpenAPI marks required and the live
    service fills (``lookup``/``pick_list_values`` empty where they do not apply)."""
    _, fields, _ = MODULES[module]
    base = f"5551{list(MODULES).index(module):04d}"
    return [_field_entry(module, base, index, api_name, data_type)
            for index, (api_name, data_type) in enumerate(fields)]


def _field_entry(module: str, base: str, index: int, api_name: str,
                 data_type: str) -> dict[str, Any]:
    label = api_name.replace("_", " ")
    entry: dict[str, Any] = {
        "api_name": api_name, "field_label": label, "display_label": label,
        "data_type": data_type, "json_type": JSON_TYPES[data_type],
        "id": f"{base}00000{index:06d}", "system_mandatory": index == 0,
        "read_only": False, "field_read_only": False, "custom_field": False,
        "visible": True, "searchable": True, "sortable": True, "filterable": True,
        "mass_update": True, "virtual_field": False, "length": 255, "decimal_place": None,
        "associated_module": None, "created_source": "default",
        "ui_type": _UI_TYPES.get(data_type, 1), "display_type": -1,
        "operation_type": {"web_update": True, "api_create": True, "web_create": True,
                           "api_update": True},
        "view_type": {"view": True, "edit": True, "quick_create": index == 0,
                      "create": True},
        "lookup": {}, "pick_list_values": [], "multiselectlookup": {}, "auto_number": {},
        "currency": {}, "formula": {}, "crypt": None, "tooltip": None, "unique": {},
        "history_tracking": None, "external": None, "webhook": True,
        "enable_colour_code": False, "quick_sequence_number": index + 1,
        "sequence_number": index + 1, "profiles": [
            {"permission_type": "read_write", "name": "Administrator",
             "id": "5551600000000000001"}]}
    if data_type == "picklist":
        entry["pick_list_values"] = [
            {"display_value": v, "actual_value": v, "reference_value": v,
             "sequence_number": n + 1, "type": "used", "colour_code": None,
             "id": f"{base}1{index:04d}{n:06d}"}
            for n, v in enumerate(picklist(module, api_name))]
    if data_type == "lookup":
        entry["lookup"] = {"module": {"api_name": "Deals", "id": module_id("Deals")},
                           "display_label": label, "api_name": api_name, "id": None}
    return entry


_UI_TYPES = {"text": 1, "textarea": 3, "email": 25, "phone": 33, "website": 21,
             "picklist": 2, "currency": 36, "date": 24, "datetime": 333, "lookup": 133}


def related_list_metadata(module: str) -> list[dict[str, Any]]:
    """``/settings/related_lists`` entries of ``module`` (the keys the live service sends)."""
    names = RELATED_LISTS.get(module, DEFAULT_RELATED)
    return [{"id": f"{module_id(module)[:-3]}{900 + index}", "api_name": name,
             "display_label": RELATED_LIST_INFO[name][0], "name": name,
             "module": {"api_name": RELATED_LIST_INFO[name][1]}, "type": "default",
             "href": f"{module}/{{ENTITYID}}/{name}", "visible": True,
             "sequence_number": index + 1, "action": None, "connectedmodule": None,
             "linkingmodule": None}
            for index, name in enumerate(names)]
