"""Zoho CRM v8 client."""

from adapters.zoho.crm.client import (
    CrmAttachment,
    DeletedRecord,
    RecordResult,
    ZohoCrmClient,
    ZohoCrmConflict,
    ZohoCrmError,
    crm_classifier,
    parse_zoho_time,
)

__all__ = ["CrmAttachment", "DeletedRecord", "RecordResult", "ZohoCrmClient",
           "ZohoCrmConflict", "ZohoCrmError", "crm_classifier", "parse_zoho_time"]
