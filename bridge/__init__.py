"""Zoho ⇄ Jira bridge daemon."""

__version__ = "0.1.0"
