"""Comments, attachments, remote links and entity properties of an issue."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec
from aiohttp import BodyPartReader, web

from adapters.jira.simulator.context import JiraHttpError, SimContext, json_body, reply
from adapters.jira.simulator.render import View
from adapters.jira.simulator.state import Attachment, Comment, Issue, RemoteLink, User

PROPERTY_LIMIT = 32768
COMMENT_EVENT_TYPES = {"comment_created": "issue_commented",
                       "comment_updated": "issue_comment_edited",
                       "comment_deleted": "issue_comment_deleted"}
MEDIA_KEY = b"jira-simulator-media"


def media_token(attachment_id: str) -> str:
    return hmac.new(MEDIA_KEY, attachment_id.encode(), hashlib.sha256).hexdigest()[:32]


class ContentRoutes:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx

    def add_to(self, router: web.UrlDispatcher) -> None:
        issue = "/rest/api/{v:[23]}/issue/{issue}"
        api = "/rest/api/{v:[23]}"
        router.add_get(f"{issue}/comment", self.list_comments)
        router.add_post(f"{issue}/comment", self.add_comment)
        router.add_post(f"/_sim{issue}/comment", self.add_comment_as)
        router.add_get(f"{issue}/comment/{{id}}", self.get_comment)
        router.add_put(f"{issue}/comment/{{id}}", self.edit_comment)
        router.add_delete(f"{issue}/comment/{{id}}", self.delete_comment)
        router.add_post(f"{issue}/attachments", self.attach)
        router.add_get(f"{api}/attachment/meta", self.attachment_settings)
        router.add_get(f"{api}/attachment/{{id:\\d+}}", self.attachment_metadata)
        router.add_delete(f"{api}/attachment/{{id:\\d+}}", self.delete_attachment)
        router.add_get(f"{api}/attachment/content/{{id}}", self.attachment_content)
        router.add_get("/media/file/{id}/binary", self.media)
        router.add_get(f"{issue}/remotelink", self.list_links)
        router.add_post(f"{issue}/remotelink", self.upsert_link)
        router.add_delete(f"{issue}/remotelink", self.delete_link_by_global_id)
        router.add_delete(f"{issue}/remotelink/{{id}}", self.delete_link)
        router.add_get(f"{issue}/properties", self.list_properties)
        router.add_get(f"{issue}/properties/{{key}}", self.get_property)
        router.add_put(f"{issue}/properties/{{key}}", self.put_property)
        router.add_delete(f"{issue}/properties/{{key}}", self.delete_property)

    # -- comments ---------------------------------------------------------------------
    def _comment(self, request: web.Request, issue: Issue) -> Comment:
        found = next((c for c in issue.comments if c.id == request.match_info["id"]), None)
        if found is None:
            raise JiraHttpError(404, ("Can not find a comment for the id: "
                                      f"{request.match_info['id']}.",))
        return found

    async def list_comments(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        order = request.query.get("orderBy", "created")
        if order.lstrip("+-") != "created":
            raise JiraHttpError(400, (f"Invalid orderBy value '{order}'.",))
        comments = sorted(issue.comments, key=lambda c: c.created, reverse=order == "-created")
        start = int(request.query.get("startAt", 0))
        size = int(request.query.get("maxResults", 100))
        view = self.ctx.view(request)
        return reply({"startAt": start, "maxResults": size, "total": len(comments),
                      "comments": [view.comment(c, issue) for c in comments[start:start + size]]})

    async def add_comment(self, request: web.Request) -> web.Response:
        return await self._add_comment(request, self.ctx.caller())

    async def add_comment_as(self, request: web.Request) -> web.Response:
        """``/_sim/rest/api/{v}/issue/{issue}/comment?accountId=…``: the same call made by
        another simulated user (a person, not the integration's account)."""
        author = self.ctx.state.user(request.query.get("accountId", ""))
        if author is None:
            raise JiraHttpError(404, ("No simulated user with that accountId.",))
        return await self._add_comment(request, author)

    async def _add_comment(self, request: web.Request, author: User) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.limits.write_issue(issue)
        payload = await json_body(request) or {}
        body = self.ctx.document(request, payload.get("body"), "comment")
        if not body:
            raise JiraHttpError(400, errors={"comment": "Comment body can not be empty!"})
        visibility = _visibility(payload.get("visibility"))
        comment = self.ctx.state.add_comment(issue, body, author)
        comment.visibility = visibility
        view = self.ctx.view(request)
        self._publish_comment(view, "comment_created", comment, issue)
        return reply(view.comment(comment, issue), 201)

    async def get_comment(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        return reply(self.ctx.view(request).comment(self._comment(request, issue), issue))

    async def edit_comment(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        comment = self._comment(request, issue)
        payload = await json_body(request) or {}
        body = self.ctx.document(request, payload.get("body"), "comment")
        if not body:
            raise JiraHttpError(400, errors={"comment": "Comment body can not be empty!"})
        comment.body = body
        if "visibility" in payload:
            comment.visibility = _visibility(payload["visibility"])
        comment.updated = self.ctx.state.now()
        comment.update_author = self.ctx.caller()
        view = self.ctx.view(request)
        self._publish_comment(view, "comment_updated", comment, issue)
        return reply(view.comment(comment, issue))

    async def delete_comment(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        comment = self._comment(request, issue)
        issue.comments.remove(comment)
        self._publish_comment(self.ctx.view(request), "comment_deleted", comment, issue)
        return web.Response(status=204)

    def _publish_comment(self, view: View, event: str, comment: Comment, issue: Issue) -> None:
        v2 = view.as_v2()
        self.ctx.publish(view, event, issue, comment=v2.comment(comment, issue),
                         issue=_issue_stub(v2, issue))
        if self.ctx.deliveries.comment_updates_issue:
            self.ctx.publish(view, "jira:issue_updated", issue,
                             issue_event_type_name=COMMENT_EVENT_TYPES[event],
                             comment=v2.comment(comment, issue))

    def _publish_attachment(self, view: View, event: str, attachment: Attachment,
                            issue: Issue) -> None:
        """Cloud's attachment events name no issue; the matching ``jira:issue_updated``
        (changelog field ``Attachment``) is how a receiver learns which issue it was."""
        added = event == "attachment_created"
        item = {"field": "Attachment", "fieldtype": "jira", "fieldId": "attachment",
                "from": None if added else attachment.id,
                "fromString": None if added else attachment.filename,
                "to": attachment.id if added else None,
                "toString": attachment.filename if added else None}
        history_id = self.ctx.state.record_change(issue, self.ctx.caller(), [item])
        self.ctx.publish(view, event, issue, issue=None,
                         attachment=view.as_v2().attachment(attachment, metadata=True))
        self.ctx.publish(view, "jira:issue_updated", issue,
                         issue_event_type_name="issue_updated",
                         changelog={"id": history_id, "items": [item]})

    # -- attachments ------------------------------------------------------------------
    async def attach(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        if request.headers.get("X-Atlassian-Token", "").lower() != "no-check":
            raise JiraHttpError(403, ("XSRF check failed",))
        if not request.content_type.startswith("multipart/"):
            raise JiraHttpError(415, ("Attachments must be sent as multipart/form-data.",))
        reader = await request.multipart()
        saved = []
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name != "file":
                continue
            content = bytearray()
            while chunk := await part.read_chunk():
                content.extend(chunk)
                if len(content) > self.ctx.attachment_limit:
                    raise JiraHttpError(413, ("The file exceeds the maximum attachment size.",))
            mime = part.headers.get("Content-Type", "application/octet-stream")
            saved.append(self.ctx.state.add_attachment(
                issue, part.filename or "file", mime, bytes(content), self.ctx.caller()))
        if not saved:
            raise JiraHttpError(400, ("No file was attached.",))
        view = self.ctx.view(request)
        for attachment in saved:
            self._publish_attachment(view, "attachment_created", attachment, issue)
        return reply([view.attachment(a) for a in saved])

    async def attachment_settings(self, request: web.Request) -> web.Response:
        return reply({"enabled": True, "uploadLimit": self.ctx.attachment_limit})

    def _attachment(self, request: web.Request) -> Attachment:
        attachment = self.ctx.state.attachment(request.match_info["id"])
        if attachment is None:
            raise JiraHttpError(404, ("The attachment does not exist.",))
        return attachment

    async def attachment_metadata(self, request: web.Request) -> web.Response:
        return reply(self.ctx.view(request).attachment(self._attachment(request), metadata=True))

    async def delete_attachment(self, request: web.Request) -> web.Response:
        attachment = self._attachment(request)
        issue = self.ctx.state.issues[attachment.issue_id]
        issue.attachments.remove(attachment)
        self._publish_attachment(self.ctx.view(request), "attachment_deleted", attachment, issue)
        return web.Response(status=204)

    async def attachment_content(self, request: web.Request) -> web.StreamResponse:
        attachment = self._attachment(request)
        if request.query.get("redirect", "true") != "false":
            location = (f"{request.scheme}://{request.host}/media/file/{attachment.id}/binary"
                        f"?token={media_token(attachment.id)}")
            raise web.HTTPSeeOther(location)
        return _file(attachment)

    async def media(self, request: web.Request) -> web.StreamResponse:
        attachment = self.ctx.state.attachment(request.match_info["id"])
        if attachment is None or request.query.get("token") != media_token(attachment.id):
            return web.Response(status=404, text="Not found")
        return _file(attachment)

    # -- remote links -----------------------------------------------------------------
    async def list_links(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        view = self.ctx.view(request)
        links = [_link(view, issue, link) for link in issue.remote_links]
        global_id = request.query.get("globalId")
        if global_id is None:
            return reply(links)
        match = next((lk for lk in links if lk.get("globalId") == global_id), None)
        if match is None:
            raise JiraHttpError(404, ("No remote link with the given globalId.",))
        return reply(match)

    async def upsert_link(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        self.ctx.limits.write_issue(issue)
        body = await json_body(request) or {}
        target = body.get("object") or {}
        errors = {name: f"'{name}' is required." for name in ("url", "title")
                  if not target.get(name)}
        if errors:
            raise JiraHttpError(400, errors={f"object.{k}": v for k, v in errors.items()})
        global_id = body.get("globalId")
        existing = next((lk for lk in issue.remote_links
                         if global_id and lk.global_id == global_id), None)
        if existing is not None:
            existing.body = body  # fields missing from the request become null
            link, status = existing, 200
        else:
            link = RemoteLink(self.ctx.state.next_link_id(), global_id, body)
            issue.remote_links.append(link)
            status = 201
        view = self.ctx.view(request)
        return reply({"id": link.id, "self": f"{view.api}/issue/{issue.key}/remotelink/{link.id}"},
                     status)

    async def delete_link(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        before = len(issue.remote_links)
        issue.remote_links = [lk for lk in issue.remote_links
                              if str(lk.id) != request.match_info["id"]]
        if len(issue.remote_links) == before:
            raise JiraHttpError(404, ("No remote link with that id.",))
        return web.Response(status=204)

    async def delete_link_by_global_id(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        global_id = request.query.get("globalId")
        if not global_id:
            raise JiraHttpError(400, ("The globalId parameter is required.",))
        before = len(issue.remote_links)
        issue.remote_links = [lk for lk in issue.remote_links if lk.global_id != global_id]
        if len(issue.remote_links) == before:
            raise JiraHttpError(404, ("No remote link with the given globalId.",))
        return web.Response(status=204)

    # -- properties -------------------------------------------------------------------
    async def list_properties(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        view = self.ctx.view(request)
        return reply({"keys": [{"key": k, "self": f"{view.api}/issue/{issue.key}/properties/{k}"}
                               for k in issue.properties]})

    async def get_property(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        key = request.match_info["key"]
        if key not in issue.properties:
            raise JiraHttpError(404, (f"The property with key '{key}' does not exist.",))
        return reply({"key": key, "value": issue.properties[key]})

    async def put_property(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        raw = await request.read()
        key = request.match_info["key"]
        if len(key) > 255 or not raw or len(raw.decode()) > PROPERTY_LIMIT:
            raise JiraHttpError(400, ("The property value must be a non-empty JSON value of at "
                                      f"most {PROPERTY_LIMIT} characters.",))
        try:
            value = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise JiraHttpError(400, ("The property value is not valid JSON.",)) from None
        created = key not in issue.properties
        issue.properties[key] = value
        return web.Response(status=201 if created else 200)

    async def delete_property(self, request: web.Request) -> web.Response:
        issue = self.ctx.issue(request)
        if issue.properties.pop(request.match_info["key"], None) is None:
            raise JiraHttpError(404, ("The property does not exist.",))
        return web.Response(status=204)


def _issue_stub(view: View, issue: Issue) -> dict[str, Any]:
    """The trimmed issue that comment and attachment events carry."""
    return {"id": issue.id, "key": issue.key, "self": f"{view.api}/issue/{issue.id}",
            "fields": {"summary": issue.fields.get("summary", ""),
                       "status": view.status(issue.status),
                       "issuetype": view.issue_type(*issue.issue_type),
                       "project": view.project(issue.project)}}


def _link(view: View, issue: Issue, link: RemoteLink) -> dict[str, Any]:
    """A ``RemoteIssueLink``; parts the caller never set are left out, not null."""
    shown = {"id": link.id, "self": f"{view.api}/issue/{issue.key}/remotelink/{link.id}",
             "globalId": link.global_id, "application": link.body.get("application"),
             "relationship": link.body.get("relationship"), "object": link.body.get("object")}
    return {k: v for k, v in shown.items() if v is not None}


def _file(attachment: Attachment) -> web.Response:
    return web.Response(body=attachment.content, content_type=attachment.mime_type.split(";")[0],
                        headers={"Content-Disposition":
                                 f'attachment; filename="{attachment.filename}"'})


def _visibility(value: Any) -> dict[str, str] | None:
    """A comment restricted to a project role or a group (``None``: everyone can see it)."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("role", "group") \
            or not (value.get("value") or value.get("identifier")):
        raise JiraHttpError(400, errors={
            "visibility": "Visibility needs type 'role' or 'group' and a value."})
    return {k: str(v) for k, v in value.items() if k in ("type", "value", "identifier")}
