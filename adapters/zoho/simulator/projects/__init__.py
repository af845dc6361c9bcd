"""Zoho Projects V3 simulator (with the WorkDrive endpoints attachments need)."""

from .simulator import ZohoProjectsSimulator, url_pattern

__all__ = ["ZohoProjectsSimulator", "url_pattern"]
