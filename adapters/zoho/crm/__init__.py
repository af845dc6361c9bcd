"""Zoho CRM v8 client."""

from adapters.zoho.crm.client import (
    CrmAttachment,
    RecordResult,
    ZohoCrmClient,
    ZohoCrmError,
    crm_classifier,
)

__all__ = ["CrmAttachment", "RecordResult", "ZohoCrmClient", "ZohoCrmError", "crm_classifier"]
