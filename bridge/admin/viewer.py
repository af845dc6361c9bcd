"""Who is using the admin UI or API in this request.

In Zoho CRM's Providers mode the issue panel reads and writes Zoho with the viewer's own
sign-in. The access gate sets the viewer for each request; it is empty for the CLI and for
background work (which never acts as a person).
"""

from __future__ import annotations

from contextvars import ContextVar

VIEWER: ContextVar[str] = ContextVar("viewer", default="")
