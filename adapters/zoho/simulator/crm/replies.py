"""Zoho CRM answer shapes: the error envelope, per-record result items, listings."""

from __future__ import annotations

from typing import Any

from aiohttp import web


class CrmError(Exception):
    """Raised by handlers; the app turns it into Zoho's error envelope."""

    def __init__(self, status: int, code: str, message: str,
                 details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "details": self.details,
                                  "message": self.message, "status": "error"},
                                 status=self.status, headers=self.headers)


def missing_param(name: str) -> CrmError:
    return CrmError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                    {"param_name": name})


def invalid_id(record_id: str | None = None) -> CrmError:
    return CrmError(400, "INVALID_DATA", "the related id given seems to be invalid",
                    {"id": record_id} if record_id else {})


def success(message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": "SUCCESS", "status": "success", "message": message, "details": details}


def failure(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "status": "error", "message": message, "details": details}


def field_failure(code: str, message: str, api_name: str, index: int,
                  **extra: Any) -> dict[str, Any]:
    return failure(code, message, {**extra, "api_name": api_name,
                                   "json_path": f"$.data[{index}].{api_name}"})


def results(items: list[dict[str, Any]], all_ok_status: int = 200) -> web.Response:
    """A batch answer: 400 when nothing succeeded, 207 when some did, else ``all_ok_status``."""
    ok = sum(1 for item in items if item["status"] == "success")
    status = 400 if ok == 0 else 207 if ok < len(items) else all_ok_status
    return web.json_response({"data": items}, status=status)


def listing(rows: list[dict[str, Any]], key: str = "data", **info: Any) -> web.Response:
    """Rows with an ``info`` block, or 204 No Content when there are none (as Zoho does)."""
    if not rows:
        return web.Response(status=204)
    body: dict[str, Any] = {key: rows}
    if key == "data":
        body["info"] = {"count": len(rows), "more_records": False, **info}
    return web.json_response(body)
