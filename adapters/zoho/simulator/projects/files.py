"""Attachments: WorkDrive upload/download (``/api/v1``) and their association with tasks and
issues in Projects (listed under the singular ``attachment`` key)."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from .common import author, json_body, plain_list, state_of
from .errors import invalid_value
from .records import ITEM, PROJECT, item_of

UPLOAD_LIMIT_KEY = web.AppKey("upload_limit", int)
_ENTITY_MODULES = {"task": "tasks", "bug": "issues", "issue": "issues"}


def _workdrive_error(status: int, code: str, title: str) -> web.Response:
    return web.json_response({"errors": [{"id": code, "title": title}]}, status=status)


async def upload(request: web.Request) -> web.Response:
    """``POST /api/v1/upload``: multipart ``content`` (the file) and ``parent_id``."""
    limit = request.app[UPLOAD_LIMIT_KEY]
    parent, name, content_type, content = "", "", "", b""
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "parent_id":
            parent = (await part.text()).strip()
        elif part.name == "content":
            name = part.filename or "file"
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            content = await part.read()
            if len(content) > limit:
                return _workdrive_error(413, "F6016", "File size exceeds the upload limit")
    if not parent or not name:
        return _workdrive_error(400, "F000", "content and parent_id are required")
    file_id = state_of(request).store_file(name, content_type, content)
    return web.json_response({"data": [{"id": file_id, "type": "files", "attributes": {
        "resource_id": file_id, "FileName": name, "parent_id": parent,
        "Permalink": str(request.url.with_path(f"/file/{file_id}").with_query(None)),
        "File INFO": "File Uploaded Successfully"}}]})


async def download(request: web.Request) -> web.StreamResponse:
    found = state_of(request).files.get(request.match_info["file"])
    if found is None:
        return _workdrive_error(404, "R008", "Resource does not exist")
    name, content_type, content = found
    response = web.StreamResponse(headers={
        "Content-Type": content_type, "Content-Length": str(len(content)),
        "Content-Disposition": f'attachment; filename="{name}"'})
    await response.prepare(request)
    for start in range(0, len(content), 64 * 1024):
        await response.write(content[start:start + 64 * 1024])
    await response.write_eof()
    return response


async def list_attachments(request: web.Request) -> web.Response:
    state, record = item_of(request)
    return plain_list("attachment", state.attachments.get(record["id"], []))


async def associate_ids(request: web.Request) -> web.Response:
    """``POST .../issues/{id}/attachments`` with ``{"attachment_ids": [...]}``."""
    state, record = item_of(request)
    ids = (await json_body(request)).get("attachment_ids")
    if not isinstance(ids, list) or not ids:
        raise invalid_value("attachment_ids", "attachment_ids must be a non-empty list.")
    added = [state.associate(record, str(i), author(request)) for i in ids]
    return web.json_response({"attachment": added})


async def associate_entity(request: web.Request) -> web.Response:
    """``POST /projects/{p}/attachments/{file}``, form fields ``entity_type``, ``entity_id``."""
    state = state_of(request)
    form = await request.post()
    module = _ENTITY_MODULES.get(str(form.get("entity_type", "")))
    if module is None:
        raise invalid_value("entity_type", "entity_type must be task or bug.")
    record = state.record(module, request.match_info["project"], str(form.get("entity_id", "")))
    attachment = state.associate(record, request.match_info["file"], author(request))
    return web.json_response({"attachment": [attachment]})


async def dissociate(request: web.Request) -> web.Response:
    """``DELETE .../{tasks|issues}/{id}/attachments/{attachment}``."""
    state, record = item_of(request)
    state.dissociate(record, request.match_info["attachment"])
    return web.Response(status=204)


def add_routes(router: web.UrlDispatcher, root: str) -> None:
    router.add_get(root + ITEM + "/attachments", list_attachments)
    router.add_delete(root + ITEM + "/attachments/{attachment}", dissociate)
    router.add_post(root + PROJECT + "/{module:issues|bugs}/{item}/attachments", associate_ids)
    router.add_post(root + PROJECT + "/attachments/{file}", associate_entity)
    router.add_post("/api/v1/upload", upload)
    router.add_get("/api/v1/download/{file}", download)

