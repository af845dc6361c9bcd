"""``/{module}/{id}/Attachments``: list (``fields`` required in v8; with ``Size``),
multipart upload, download, delete; changes are ``Attachments`` events naming the parent."""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web

from adapters.zoho.simulator.crm.records import (
    API,
    AUDIT,
    record_in_path,
    required_fields,
    selected,
)
from adapters.zoho.simulator.crm.replies import (
    CrmError,
    invalid_id,
    listing,
    results,
    success,
)
from adapters.zoho.simulator.crm.store import OWNER, USER, CrmStore

MAX_UPLOAD = 20 * 1024 * 1024


class AttachmentsApi:
    def __init__(self, store: CrmStore) -> None:
        self.store = store

    def routes(self, router: web.UrlDispatcher) -> None:
        path = f"{API}/{{module}}/{{id}}/Attachments"
        router.add_get(path, self.list_attachments)
        router.add_post(path, self.upload)
        router.add_get(f"{path}/{{att}}", self.download)
        router.add_delete(f"{path}/{{att}}", self.delete)

    async def list_attachments(self, request: web.Request) -> web.Response:
        _, parent = record_in_path(self.store, request)
        wanted = required_fields(request) - {"content"}
        return listing([selected(a, wanted) for a in self.store.attachments.values()
                        if a["Parent_Id"]["id"] == parent["id"]])

    async def upload(self, request: web.Request) -> web.Response:
        module, parent = record_in_path(self.store, request)
        part = await (await request.multipart()).next()
        if not isinstance(part, BodyPartReader) or part.name != "file":
            raise CrmError(400, "MANDATORY_NOT_FOUND", "file is missing", {"api_name": "file"})
        content = bytes(await part.read())
        if len(content) > MAX_UPLOAD:
            raise CrmError(400, "FILE_SIZE_MORE_THAN_ALLOWED_SIZE",
                           "file size exceeds the allowed limit", {"limit": MAX_UPLOAD})
        attachment_id, stamp = self.store.ids.next(), self.store.stamp()
        attachment = self.store.attachments[attachment_id] = {
            "id": attachment_id, "File_Name": part.filename or "file",
            "Size": str(len(content)), "Created_Time": stamp, "Modified_Time": stamp,
            "Owner": OWNER, "Created_By": USER, "Modified_By": USER,
            "$file_id": attachment_id, "$type": "Attachment", "$se_module": module,
            "Parent_Id": {"id": parent["id"], "module": {"api_name": module}},
            "content": content}
        self.store.child_changed("Attachments", "insert", attachment_id,
                                 (module, parent["id"]))
        return results([success("attachment uploaded successfully",
                                {k: attachment[k] for k in AUDIT})])

    def _attachment(self, request: web.Request) -> dict[str, Any]:
        _, parent = record_in_path(self.store, request)
        attachment = self.store.attachments.get(request.match_info["att"])
        if attachment is None or attachment["Parent_Id"]["id"] != parent["id"]:
            raise invalid_id(request.match_info["att"])
        return attachment

    async def download(self, request: web.Request) -> web.Response:
        attachment = self._attachment(request)
        return web.Response(body=attachment["content"],
                            content_type="application/octet-stream",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{attachment["File_Name"]}"'})

    async def delete(self, request: web.Request) -> web.Response:
        attachment = self._attachment(request)
        del self.store.attachments[attachment["id"]]
        self.store.child_changed("Attachments", "delete", attachment["id"],
                                 (attachment["$se_module"], attachment["Parent_Id"]["id"]))
        return results([success("record deleted", {"id": attachment["id"]})])
