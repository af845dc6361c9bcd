"""The Zoho Projects side of one SCI: the tasks or issues of one project."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import IO, Any

from adapters.jira import adf
from adapters.zoho.projects import ZohoProjectsClient
from adapters.zoho.projects.errors import ZohoProjectsError
from adapters.zoho.projects.views import Attachment, Comment, ProjectRef, RecordRef, WorkItem
from bridge.sides.base import (
    AssociatedGroup,
    AssociatedItem,
    SideError,
    ZohoMetadata,
    first_matches,
    size_text,
)
from bridge.sync.attachments import AttachmentView
from bridge.sync.comments import CommentView
from bridge.sync.convert import FieldKind, parse_time
from bridge.sync.model import ZohoSnapshot
from bridge.sync.status import ZohoStatus

# Built-in fields of tasks and issues; custom fields are read as text unless typed.
KNOWN_KINDS: dict[str, FieldKind] = {
    "name": "text", "description": "rich_text", "start_date": "date", "end_date": "date",
    "due_date": "date", "priority": "picklist", "severity": "picklist",
    "completion_percentage": "number",
}


class ProjectsSide:
    system = "projects"
    comment_label = "Zoho Projects comment"
    files_modify_record = True  # associating a file bumps the task's last_modified_time

    def __init__(self, client: ZohoProjectsClient, portal_id: str, project_id: str,
                 kind: str, web_url: str = "", workdrive_folder: str = "") -> None:
        self.client = client
        self.where = ProjectRef(portal_id, project_id)
        self.kind: Any = kind
        self.workdrive_folder = workdrive_folder  # where uploaded copies are stored
        self._status_ids: dict[str, str] = {}
        self._web = web_url.rstrip("/") or client.api_base
        self._listed: dict[str, Attachment] = {}  # attachment id → as last listed

    def _ref(self, record_id: str) -> RecordRef:
        return RecordRef(self.where.portal_id, self.where.project_id, self.kind, record_id)

    async def metadata(self) -> ZohoMetadata:
        statuses = await self.client.statuses(self.where, self.kind)
        self._status_ids = {s.name: s.id for s in statuses}
        portals = await self.client.portals()
        zone = next((p.timezone for p in portals if p.id == self.where.portal_id), "") or "UTC"
        return ZohoMetadata(zone, tuple(ZohoStatus(s.name, s.is_closed_type)
                                        for s in statuses), dict(KNOWN_KINDS))

    def record_url(self, record_id: str, kind: str = "") -> str:
        entity = "task" if (kind or self.kind) == "tasks" else "bug"
        return (f"{self._web}/portal/{self.where.portal_id}#{entity}detail/"
                f"{self.where.project_id}/{record_id}")

    async def associated(self, record_id: str) -> list[AssociatedGroup]:
        """Associated issues (of a task) or tasks (of an issue), comments, followers and
        attachments; comments, followers and attachments open the task/issue itself."""
        related = await self.client.related(self._ref(record_id))
        here = self.record_url(record_id)
        other = "issues" if self.kind == "tasks" else "tasks"
        return [
            AssociatedGroup(name=f"Associated {other}", items=[
                AssociatedItem(id=i.id, title=i.name, url=self.record_url(i.id, other),
                               subtitle=" · ".join(filter(None, (
                                   i.prefix, i.status.name if i.status else ""))))
                for i in related.associated]),
            AssociatedGroup(name="Comments", items=[
                AssociatedItem(id=c.id, title=_comment_view(c).text.split("\n")[0],
                               subtitle=" · ".join(filter(None, (
                                   c.added_by.name if c.added_by else "", c.created_time))),
                               url=here)
                for c in related.comments]),
            AssociatedGroup(name="Followers", items=[
                AssociatedItem(id=f.zpuid or str(f.zuid or ""), title=f.name or f.email,
                               subtitle=f.email, url=here)
                for f in related.followers]),
            AssociatedGroup(name="Attachments", items=[
                AssociatedItem(id=a.id, title=a.name, subtitle=size_text(a.size), url=here)
                for a in related.attachments]),
        ]

    async def snapshot(self, record_id: str) -> ZohoSnapshot | None:
        try:
            item = await self.client.record(self._ref(record_id))
        except ZohoProjectsError as exc:
            if exc.status == 404:
                return None
            raise
        return self._snapshot(item)

    def _snapshot(self, item: WorkItem) -> ZohoSnapshot:
        status = item.status
        return ZohoSnapshot(
            id=item.id, title=item.name, url=self.record_url(item.id), fields=dict(item.raw),
            status=status.name if status else "",
            status_closed=status.is_closed_type if status else None,
            modified=parse_time(item.last_modified_time).timestamp())

    async def search(self, text: str, limit: int) -> list[ZohoSnapshot]:
        """The task/issue whose id is ``text`` (when it is one), then those whose name
        contains ``text`` (at least 2 characters)."""
        exact = await self.snapshot(text) if text.isdigit() else None
        found = [self._snapshot(i) for i in
                 await self.client.search(self.where, self.kind, text, limit=limit)]
        return first_matches(exact, found, limit)

    async def changed_since(self, since: float) -> list[ZohoSnapshot]:
        moment = datetime.fromtimestamp(since, UTC)
        newest_first = [self._snapshot(i) async for i in
                        self.client.changed_since(self.where, self.kind, moment)]
        return newest_first[::-1]

    async def deleted_since(self, since: float) -> list[str]:
        return []  # Projects lists no deletions; a missing record shows on the next read

    async def update(self, record_id: str, fields: Mapping[str, Any],
                     unmodified_since: float) -> None:
        await self.client.update(self._ref(record_id), dict(fields))

    async def set_status(self, record_id: str, status: str) -> None:
        status_id = self._status_ids.get(status)
        if status_id is None:
            raise SideError(f"Zoho Projects has no status {status!r} for {self.kind}")
        await self.client.set_status(self._ref(record_id), status_id)

    async def link_note(self, record_id: str, text: str, marker: str) -> None:
        ref = self._ref(record_id)
        if any(marker in c.comment for c in await self.client.comments(ref)):
            return
        await self.client.add_comment(ref, text)

    # -- comments: HTML ⇄ markup ---------------------------------------------------------------
    async def comments(self, record_id: str) -> list[CommentView]:
        return [_comment_view(c) for c in await self.client.comments(self._ref(record_id))]

    async def commented_since(self, since: float) -> set[str]:
        return set()  # a comment shows on the task/issue's next pass

    async def find_comment(self, record_id: str, marker: str) -> str | None:
        return next((c.id for c in await self.comments(record_id) if marker in c.text), None)

    async def add_comment(self, record_id: str, header: str, text: str) -> str:
        return (await self.client.add_comment(self._ref(record_id), _html(header, text))).id

    async def edit_comment(self, record_id: str, comment_id: str, header: str,
                           text: str) -> None:
        try:
            await self.client.update_comment(self._ref(record_id), comment_id,
                                             _html(header, text))
        except ZohoProjectsError as exc:
            if exc.status != 404:  # the copy was deleted in Zoho: leave it deleted
                raise

    async def delete_comment(self, record_id: str, comment_id: str) -> None:
        try:
            await self.client.delete_comment(self._ref(record_id), comment_id)
        except ZohoProjectsError as exc:
            if exc.status != 404:
                raise

    # -- attachments: files in WorkDrive, associated with the task/issue ------------------------
    async def attachments(self, record_id: str) -> list[AttachmentView]:
        listed = await self.client.attachments(self._ref(record_id))
        self._listed.update((a.id, a) for a in listed)
        return [AttachmentView(id=a.id, name=a.name, size=a.size,
                               created=parse_time(a.created_time).timestamp()
                               if a.created_time else 0.0) for a in listed]

    async def download_attachment(self, record_id: str, file: AttachmentView,
                                  cap: int) -> AsyncIterator[bytes]:
        listed = self._listed.get(file.id)
        if listed is None:  # not listed by this process yet (a write replayed after restart)
            await self.attachments(record_id)
            listed = self._listed.get(file.id)
        if listed is None:
            raise SideError(f"attachment {file.name!r} is no longer on {self.kind} {record_id}")
        async for chunk in self.client.download_attachment(listed, cap=cap):
            yield chunk

    async def upload_attachment(self, record_id: str, name: str,
                                open_stream: Callable[[], IO[bytes]], size: int,
                                cap: int) -> str:
        if not self.workdrive_folder:
            raise SideError("copying files to Zoho Projects needs zoho.workdrive_folder")
        added = await self.client.upload_attachment(
            self._ref(record_id), name, open_stream, size=size,
            folder_id=self.workdrive_folder, cap=cap)
        self._listed[added.id] = added
        return added.id

    async def delete_attachment(self, record_id: str, attachment_id: str) -> None:
        try:
            await self.client.delete_attachment(self._ref(record_id), attachment_id)
        except ZohoProjectsError as exc:
            if exc.status != 404:  # already gone: nothing left to delete
                raise
        self._listed.pop(attachment_id, None)


def _comment_view(comment: Comment) -> CommentView:
    return CommentView(id=comment.id, text=adf.to_text(adf.from_html(comment.comment)),
                       author=comment.added_by.name if comment.added_by else "",
                       created=parse_time(comment.created_time).timestamp()
                       if comment.created_time else 0.0)


def _html(header: str, text: str) -> str:
    return f"<p>{html.escape(header)}</p>{adf.to_html(adf.to_adf(text))}"
