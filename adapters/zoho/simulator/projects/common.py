"""Small helpers every route module uses: JSON bodies, list answers, the calling user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from aiohttp import web

from .errors import V3Error, invalid_value
from .query import page_of, record_filter, sort_records
from .store import ProjectsState, Record

STATE_KEY = web.AppKey("projects_state", ProjectsState)


def state_of(request: web.Request) -> ProjectsState:
    return request.app[STATE_KEY]


def author(request: web.Request) -> Record:
    """The calling user; every simulated token acts as the portal's first user."""
    return state_of(request).users[0]


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        raise V3Error(400, "INVALID_INPUTSTREAM", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise V3Error(400, "INVALID_INPUTSTREAM", "The request body must be a JSON object.")
    return body


def text_field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid_value(name, f"{name} is mandatory.")
    return value


def listing(key: str, records: list[Record], params: Mapping[str, str], *,
            info_as_list: bool = False) -> web.Response:
    """Filtered, sorted, paged ``{key: [...], "page_info": {...}}``; 204 when empty."""
    chosen = [r for r in records if record_filter(params.get("filter"))(r)]
    chunk, info = page_of(sort_records(chosen, params.get("sort_by")), params)
    if not chunk:
        return web.Response(status=204)
    return web.json_response({key: chunk, "page_info": [info] if info_as_list else info})


def plain_list(key: str, items: list[Record]) -> web.Response:
    return web.json_response({key: items}) if items else web.Response(status=204)
