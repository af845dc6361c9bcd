"""Zoho CRM v8 simulator."""

from adapters.zoho.simulator.crm.app import ZohoCrmSimulator

__all__ = ["ZohoCrmSimulator"]
