"""Zoho Projects V3 error envelope (``{"error": {...}}``) as an exception handlers raise."""

from __future__ import annotations

from typing import Any

from aiohttp import web

FIELDS = "FIELDS_VALIDATION_ERROR"
OPERATIONAL = "OPERATIONAL_VALIDATION_ERROR"


class V3Error(Exception):
    def __init__(self, status: int, title: str, message: str, *,
                 error_type: str = FIELDS, field_name: str | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message
        self.error_type = error_type
        self.field_name = field_name

    def response(self, request: web.Request) -> web.Response:
        detail: dict[str, Any] = {"message": self.message}
        if self.field_name:
            detail["field_name"] = self.field_name
        return web.json_response({"error": {
            "status_code": str(self.status), "instance": request.path, "method": request.method,
            "title": self.title, "error_type": self.error_type, "details": [detail]}},
            status=self.status)


def invalid_value(field_name: str, message: str) -> V3Error:
    return V3Error(400, "INVALID_PARAMETER_VALUE", message, field_name=field_name)


def not_found(what: str) -> V3Error:
    # The exact V3 title for a missing record is not documented; this mirrors the style.
    return V3Error(404, "RESOURCE_NOT_FOUND", f"The requested {what} does not exist.",
                   error_type=OPERATIONAL)


def wrong_url() -> V3Error:
    return V3Error(400, "URL_RULE_NOT_CONFIGURED", "Given URL is wrong", error_type=OPERATIONAL)


def invalid_token() -> V3Error:
    return V3Error(401, "INVALID_OAUTHTOKEN", "Invalid OAuth access token.",
                   error_type=OPERATIONAL)


def scope_mismatch() -> V3Error:
    return V3Error(401, "OAUTH_SCOPE_MISMATCH", "The OAuth token lacks the required scope.",
                   error_type=OPERATIONAL)
