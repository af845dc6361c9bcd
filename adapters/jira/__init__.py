"""Jira Cloud: async client and a faithful simulator of its REST API."""
