"""Typed async client for the Zoho Projects V3 API: portals, projects, tasks and issues
(paging, modified-time polling, writes, statuses), comments, WorkDrive-backed attachments,
milestones, time logs, followers and associated records."""

from __future__ import annotations

import html
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing
from datetime import datetime
from typing import Any, Literal

import aiohttp
import msgspec

from adapters.http import Answer, AuthProvider, Budget, Outcome, Transport

from .errors import (
    SYSTEM,
    ZohoProjectsError,
    projects_classifier,
    projects_error,
    validation_error,
)
from .throttle import Throttle
from .views import (
    Attachment,
    Comment,
    Milestone,
    Portal,
    Project,
    ProjectRef,
    RecordRef,
    Related,
    Status,
    TimeLog,
    User,
    WorkItem,
    work_item,
)

Kind = Literal["tasks", "issues"]
PER_PAGE = 100
MAX_PER_PAGE = 200
DEFAULT_ATTACHMENT_CAP = 10 * 1024 * 1024
MIN_SEARCH = 2
_ENTITY = {"tasks": "task", "issues": "bug"}
Params = Mapping[str, str]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ZohoProjectsClient:
    def __init__(self, api_base: str, transport: Transport, *, workdrive_base: str,
                 throttle: Throttle | None = None) -> None:
        self.api_base = api_base.rstrip("/")
        self.workdrive = workdrive_base.rstrip("/")
        self.transport = transport
        self.throttle = throttle  # None: unpaced (the daemon always passes one)

    @classmethod
    def connect(cls, api_base: str, auth: AuthProvider, session: aiohttp.ClientSession, *,
                workdrive_base: str, budget: Budget | None = None,
                throttle: Throttle | None = None) -> ZohoProjectsClient:
        transport = Transport(SYSTEM, session, auth=auth, budget=budget,
                              classifier=projects_classifier, error_factory=projects_error)
        return cls(api_base, transport, workdrive_base=workdrive_base, throttle=throttle)

    # -- plumbing ---------------------------------------------------------------------------
    async def _call(self, method: str, path: str, *, body: Any = None,
                    params: Params | None = None, version: str = "v3",
                    form: Callable[[], aiohttp.FormData] | None = None) -> Answer:
        """One V3 request within the pattern's budget; a lock-out pauses that pattern."""
        url = f"{self.api_base}/api/{version}{path}"
        data: Any = form or (msgspec.json.encode(body) if body is not None else None)
        headers = {"Content-Type": "application/json"} if body is not None else None
        if self.throttle is not None:
            await self.throttle.acquire(path)
        try:
            return await self.transport.request(method, url, params=params, data=data,
                                                headers=headers, expect=(204,))
        except ZohoProjectsError as exc:
            if exc.outcome is Outcome.RATE_LIMITED and exc.retry_after and self.throttle:
                self.throttle.lock_out(path, exc.retry_after)
            raise

    async def _pages(self, path: str, key: str, params: Params | None = None,
                     version: str = "v3", per_page: int = PER_PAGE
                     ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of a list: ``{key: [...], "page_info": {...}|[{...}]}`` or a bare array
        (then a short page is the last); 204 means no (more) items."""
        page = 1
        while True:
            query = {**(params or {}), "page": str(page), "per_page": str(per_page)}
            answer = await self._call("GET", path, params=query, version=version)
            if answer.status == 204:
                return
            body = answer.json()
            items = body if isinstance(body, list) else body.get(key, [])
            yield items
            if not _has_next(body, len(items), per_page):
                return
            page += 1

    async def _all(self, path: str, key: str, params: Params | None = None,
                   version: str = "v3") -> list[dict[str, Any]]:
        return [item async for page in self._pages(path, key, params, version) for item in page]

    async def _list(self, path: str, key: str) -> list[dict[str, Any]]:
        """An unpaged list answer (204 = empty)."""
        answer = await self._call("GET", path)
        return [] if answer.status == 204 else answer.json().get(key, [])

    @staticmethod
    def _project_path(where: ProjectRef) -> str:
        return f"/portal/{where.portal_id}/projects/{where.project_id}"

    def _record_path(self, ref: RecordRef) -> str:
        return f"{self._project_path(ref.project)}/{ref.kind}/{ref.id}"

    # -- portals and projects -----------------------------------------------------------------
    async def portals(self) -> list[Portal]:
        answer = await self._call("GET", "/portals")
        body = [] if answer.status == 204 else answer.json()
        items = body if isinstance(body, list) else body.get("portals", [])
        return msgspec.convert(items, list[Portal])

    async def users(self, portal_id: str) -> list[User]:
        users = await self._all(f"/portal/{portal_id}/users", "users", version="v3.1")
        return msgspec.convert(users, list[User])

    async def projects(self, portal_id: str) -> list[Project]:
        return msgspec.convert(await self._all(f"/portal/{portal_id}/projects", "projects"),
                               list[Project])

    async def project(self, where: ProjectRef) -> Project:
        return msgspec.convert((await self._call("GET", self._project_path(where))).json(),
                               Project)

    # -- tasks and issues -----------------------------------------------------------------------
    async def records(self, where: ProjectRef, kind: Kind, *, filter: dict[str, Any] | None = None,
                      sort_by: str | None = None, per_page: int = PER_PAGE
                      ) -> AsyncGenerator[WorkItem, None]:
        params = {"sort_by": sort_by} if sort_by else {}
        if filter is not None:
            params["filter"] = msgspec.json.encode(filter).decode()
        path = f"{self._project_path(where)}/{kind}"
        async for page in self._pages(path, kind, params, per_page=min(per_page, MAX_PER_PAGE)):
            for raw in page:
                yield work_item(raw, kind)

    async def changed_since(self, where: ProjectRef, kind: Kind, since: datetime,
                            per_page: int = MAX_PER_PAGE) -> AsyncIterator[WorkItem]:
        """Records modified at or after ``since``, newest first. Pages are sorted by
        ``DESC(last_modified_time)`` and paging stops at the first older record, so a poll
        costs one request when little changed."""
        newest_first = self.records(where, kind, sort_by="DESC(last_modified_time)",
                                    per_page=per_page)
        async with aclosing(newest_first) as items:
            async for item in items:
                if _when(item.last_modified_time) < since:
                    return
                yield item

    async def record(self, ref: RecordRef) -> WorkItem:
        return work_item((await self._call("GET", self._record_path(ref))).json(), ref.kind)

    async def create(self, where: ProjectRef, kind: Kind, fields: dict[str, Any]) -> WorkItem:
        answer = await self._call("POST", f"{self._project_path(where)}/{kind}", body=fields)
        return work_item(answer.json(), kind)

    async def update(self, ref: RecordRef, fields: dict[str, Any]) -> WorkItem:
        """PATCH only ``fields``: custom fields by api_name, references as ``{"id": ..}``."""
        answer = await self._call("PATCH", self._record_path(ref), body=fields)
        return work_item(answer.json(), ref.kind)

    async def set_status(self, ref: RecordRef, status_id: str) -> WorkItem:
        return await self.update(ref, {"status": {"id": status_id}})

    async def delete(self, ref: RecordRef) -> None:
        await self._call("DELETE", self._record_path(ref))

    async def statuses(self, where: ProjectRef, kind: Kind) -> list[Status]:
        """The module's statuses with their open/closed type. The status list endpoint
        (global statuses) omits the type, so it is read from the statuses embedded in the
        project's most recently changed records; types never seen there stay ``None``."""
        listed = await self._all(f"/portal/{where.portal_id}/settings/global-statuses",
                                 "statuses", {"module": kind})
        recent = await self._call("GET", f"{self._project_path(where)}/{kind}", params={
            "sort_by": "DESC(last_modified_time)", "page": "1", "per_page": str(MAX_PER_PAGE)})
        seen: dict[str, Status] = {}
        for raw in [] if recent.status == 204 else recent.json().get(kind, []):
            status = msgspec.convert(raw["status"], Status)
            seen.setdefault(status.id, status)
        merged = [seen.get(str(s["id"])) or msgspec.convert(s, Status) for s in listed]
        known = {s.id for s in merged}
        return merged + [s for s in seen.values() if s.id not in known]

    async def search(self, where: ProjectRef, kind: Kind, text: str, limit: int = 50
                     ) -> list[WorkItem]:
        """Records whose name contains ``text`` (the issue panel's search box)."""
        text = text.strip()
        if len(text) < MIN_SEARCH:
            raise validation_error(f"search needs at least {MIN_SEARCH} characters")
        criteria = {"criteria": [{"field_name": "name", "criteria_condition": "contains",
                                  "value": [text]}], "pattern": "1"}
        found: list[WorkItem] = []
        async with aclosing(self.records(where, kind, filter=criteria, per_page=limit)) as items:
            async for item in items:
                found.append(item)
                if len(found) >= limit:
                    break
        return found

    # -- comments -----------------------------------------------------------------------------
    async def comments(self, ref: RecordRef) -> list[Comment]:
        return msgspec.convert(await self._all(f"{self._record_path(ref)}/comments",
                                               "comments"), list[Comment])

    async def add_comment(self, ref: RecordRef, html_text: str) -> Comment:
        answer = await self._call("POST", f"{self._record_path(ref)}/comments",
                                  body={"comment": html_text})
        return msgspec.convert(answer.json(), Comment)

    async def update_comment(self, ref: RecordRef, comment_id: str, html_text: str) -> Comment:
        answer = await self._call("PATCH", f"{self._record_path(ref)}/comments/{comment_id}",
                                  body={"comment": html_text})
        return msgspec.convert(answer.json(), Comment)

    async def delete_comment(self, ref: RecordRef, comment_id: str) -> None:
        await self._call("DELETE", f"{self._record_path(ref)}/comments/{comment_id}")

    async def add_link_note(self, ref: RecordRef, *, jira_key: str, jira_url: str,
                            jira_issue_id: str, sci_name: str, automatic: bool) -> Comment:
        """The note written on link: which Jira issue, by which SCI, manual or automatic."""
        e = html.escape
        note = (f"<p>Linked to Jira issue <a href=\"{e(jira_url)}\">{e(jira_key)}</a> "
                f"(issue id {e(jira_issue_id)}) by Smart Connected Item "
                f"&quot;{e(sci_name)}&quot; ({'automatic' if automatic else 'manual'} link).</p>")
        return await self.add_comment(ref, note)

    # -- attachments ----------------------------------------------------------------------------
    async def attachments(self, ref: RecordRef) -> list[Attachment]:
        return msgspec.convert(await self._list(f"{self._record_path(ref)}/attachments",
                                                "attachment"), list[Attachment])

    async def upload_attachment(self, ref: RecordRef, filename: str,
                                open_stream: Callable[[], Any], *, size: int, folder_id: str,
                                content_type: str = "application/octet-stream",
                                cap: int = DEFAULT_ATTACHMENT_CAP) -> Attachment:
        """Upload to the project's WorkDrive folder, then attach the file to the record.
        Refuses files over ``cap`` before sending anything."""
        if size > cap:
            raise _too_large(filename, size, cap)

        def upload_form() -> aiohttp.FormData:
            form = aiohttp.FormData()
            form.add_field("parent_id", folder_id)
            form.add_field("content", open_stream(), filename=filename,
                           content_type=content_type)
            return form

        answer = await self.transport.request("POST", f"{self.workdrive}/api/v1/upload",
                                              data=upload_form, safe=False)
        (uploaded,) = answer.json()["data"]
        file_id = uploaded.get("id") or uploaded["attributes"]["resource_id"]

        def associate_form() -> aiohttp.FormData:
            form = aiohttp.FormData()
            form.add_field("entity_type", _ENTITY[ref.kind])
            form.add_field("entity_id", ref.id)
            return form

        path = f"{self._project_path(ref.project)}/attachments/{file_id}"
        associated = await self._call("POST", path, form=associate_form)
        return msgspec.convert(associated.json()["attachment"][0], Attachment)

    async def delete_attachment(self, ref: RecordRef, attachment_id: str) -> None:
        """Dissociate the file from the task/issue (WorkDrive keeps it)."""
        await self._call("DELETE", f"{self._record_path(ref)}/attachments/{attachment_id}")

    async def download_attachment(self, attachment: Attachment, *,
                                  cap: int = DEFAULT_ATTACHMENT_CAP,
                                  chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Stream the file from WorkDrive; refuses before any transfer when the listed (or
        announced) size is over ``cap``, and stops if the body runs past it."""
        if attachment.size > cap:
            raise _too_large(attachment.name, attachment.size, cap)
        url = f"{self.workdrive}/api/v1/download/{attachment.third_party_file_id}"
        async with self.transport.stream("GET", url) as response:
            if (response.content_length or 0) > cap:
                raise _too_large(attachment.name, response.content_length or 0, cap)
            received = 0
            async for chunk in response.content.iter_chunked(chunk_size):
                received += len(chunk)
                if received > cap:
                    raise _too_large(attachment.name, received, cap)
                yield chunk

    # -- display items and the associated-records panel ----------------------------------------
    async def milestones(self, where: ProjectRef) -> list[Milestone]:
        return msgspec.convert(await self._all(f"{self._project_path(where)}/milestones",
                                               "milestones"), list[Milestone])

    async def timelogs(self, where: ProjectRef, record: RecordRef | None = None
                       ) -> list[TimeLog]:
        """Time logs of the project, or of one task or issue; flattened across days."""
        params = {}
        if record is not None:
            kind = "task" if record.kind == "tasks" else "issue"
            params["module"] = msgspec.json.encode({"type": kind, "id": record.id}).decode()
        answer = await self._call("GET", f"{self._project_path(where)}/timelogs",
                                  params=params)
        if answer.status == 204:
            return []
        days = answer.json().get("timelogs", {}).get("date", [])
        logs = [log for day in days for group in ("tasklogs", "buglogs", "generallogs")
                for log in day.get(group, [])]
        return msgspec.convert(logs, list[TimeLog])

    async def followers(self, ref: RecordRef) -> list[User]:
        return msgspec.convert(await self._list(f"{self._record_path(ref)}/followers",
                                                "followers"), list[User])

    async def associated(self, ref: RecordRef) -> list[WorkItem]:
        """A task's associated issues, or an issue's associated tasks."""
        if ref.kind == "tasks":
            raw = await self._list(f"{self._record_path(ref)}/associated-bugs",
                                   "associated_bugs")
            return [work_item(r, "issues") for r in raw]
        raw = await self._list(f"{self._record_path(ref)}/associated-tasks", "associated_tasks")
        return [work_item(r, "tasks") for r in raw]

    async def related(self, ref: RecordRef) -> Related:
        return Related(associated=await self.associated(ref),
                       comments=await self.comments(ref),
                       followers=await self.followers(ref),
                       attachments=await self.attachments(ref))


def _has_next(body: Any, count: int, per_page: int) -> bool:
    if isinstance(body, list):
        return count >= per_page
    info = body.get("page_info") or {}
    if isinstance(info, list):
        info = info[0] if info else {}
    return bool(info.get("has_next_page"))


def _too_large(filename: str, size: int, cap: int) -> ZohoProjectsError:
    return ZohoProjectsError(f"{filename}: {size} bytes exceeds the {cap}-byte limit",
                             status=None, outcome=Outcome.PERMANENT, title="FILE_TOO_LARGE",
                             details={"size": size, "limit": cap})
