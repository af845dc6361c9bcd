"""Zoho CRM v8 simulator."""

from adapters.zoho.simulator.crm.app import ZohoCrmSimulator
from adapters.zoho.simulator.crm.settings import CrmSettings

__all__ = ["CrmSettings", "ZohoCrmSimulator"]
