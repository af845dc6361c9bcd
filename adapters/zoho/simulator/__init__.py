"""Simulators of Zoho accounts (OAuth) and the Zoho APIs, for tests, demo and sandbox."""
