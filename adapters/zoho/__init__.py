"""Zoho: OAuth (all data centers), CRM and Projects clients, and their simulators."""
