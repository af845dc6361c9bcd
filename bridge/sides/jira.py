"""The Jira side of one SCI: snapshots of its issues, JQL polling, and carrying out writes
(field updates, multi-step transitions, marked auto-creates, remote links)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import msgspec

from adapters.http import Outcome
from adapters.jira import adf
from adapters.jira.client import (
    Comment,
    CreatedIssue,
    Issue,
    JiraClient,
    JiraError,
    NoTransition,
)
from adapters.jira.timefmt import parse_jira_time
from bridge.sides.base import SideError
from bridge.sync import keys
from bridge.sync.attachments import AttachmentView
from bridge.sync.comments import CommentView
from bridge.sync.convert import FieldKind
from bridge.sync.model import JiraSnapshot, JiraStatus, StatusCategory
from bridge.sync.status import TransitionOption, next_transition

# Jira `/field` schema → conversion kind (the rest are text).
_SCHEMA_KINDS: dict[str, FieldKind] = {
    "number": "number", "date": "date", "datetime": "datetime", "option": "picklist",
    "priority": "picklist", "user": "user",
}
_RICH_TEXT = {"description", "environment"}
MAX_TRANSITION_STEPS = 8
# JQL compares at minute precision in the account's zone: poll with this much overlap.
POLL_OVERLAP = timedelta(minutes=2)


class JiraMetadata(msgspec.Struct, frozen=True):
    zone: str
    statuses: tuple[JiraStatus, ...]
    kinds: dict[str, FieldKind]


class JiraSide:
    def __init__(self, client: JiraClient, project: str, issue_type: str,
                 fields: list[str]) -> None:
        self.client = client
        self.project = project
        self.issue_type = issue_type
        self._fields = sorted({"summary", "status", "updated", "project", "issuetype",
                               *fields})
        # status name → statuses seen reachable in one step (learned from transitions).
        self._graph: dict[str, set[str]] = defaultdict(set)
        self._account = ""  # the bridge's own account: its comments are never copied

    async def metadata(self) -> JiraMetadata:
        zone = str(await self.client.time_zone())
        by_type = await self.client.statuses(self.project)
        statuses = tuple(JiraStatus(s.name, _category(s.statusCategory.key))
                         for s in by_type.get(self.issue_type, []))
        kinds = {f["id"]: _kind(f) for f in await self.client.fields()}
        self._account = str((await self.client.myself()).get("accountId", ""))
        return JiraMetadata(zone, statuses, kinds)

    def browse_url(self, key: str) -> str:
        return f"{self.client.site_url}/browse/{key}"

    async def snapshot(self, issue: str) -> JiraSnapshot | None:
        try:
            found = await self.client.get_issue(issue, fields=self._fields)
        except JiraError as exc:
            if exc.status == 404:
                return None
            raise
        return self._snapshot(found)

    def _snapshot(self, issue: Issue) -> JiraSnapshot:
        status = issue.fields.get("status") or {}
        category = (status.get("statusCategory") or {}).get("key", "")
        updated = issue.fields.get("updated")
        return JiraSnapshot(
            id=issue.id, key=issue.key, fields=issue.fields,
            status=JiraStatus(str(status.get("name", "")), _category(category)),
            updated=parse_jira_time(updated).timestamp() if updated else 0.0,
        )

    def in_scope(self, snapshot: JiraSnapshot) -> bool:
        project = (snapshot.fields.get("project") or {}).get("key")
        issue_type = (snapshot.fields.get("issuetype") or {}).get("name")
        return project == self.project and issue_type == self.issue_type

    async def changed_since(self, since: float) -> list[JiraSnapshot]:
        """Issues of the SCI's scope updated at or after ``since`` (minus the overlap)."""
        literal = await self.client.jql_instant(datetime.fromtimestamp(since, UTC)
                                                - POLL_OVERLAP)
        jql = (f'project = {self.project} AND issuetype = "{self.issue_type}" '
               f"AND updated >= {literal} ORDER BY updated ASC")
        return [self._snapshot(i) async for i in self.client.search(jql, fields=self._fields)]

    async def attachment_holder(self, attachment_id: str, created: float) -> str | None:
        """The id of the SCI-scope issue holding a file added at ``created``: Jira's
        attachment events name no issue, and the file's own metadata names none either."""
        literal = await self.client.jql_instant(datetime.fromtimestamp(created, UTC)
                                                - POLL_OVERLAP)
        jql = (f'project = {self.project} AND issuetype = "{self.issue_type}" '
               f"AND updated >= {literal} ORDER BY updated DESC")
        async for issue in self.client.search(jql, fields=("attachment",)):
            if any(str(a.get("id")) == attachment_id
                   for a in issue.fields.get("attachment") or []):
                return issue.id
        return None

    async def update(self, key: str, fields: Mapping[str, Any]) -> None:
        await self.client.edit_issue(key, fields=dict(fields))

    async def move_to(self, key: str, target: str,
                      workflow: Sequence[JiraStatus] = ()) -> None:
        """Reach ``target`` through valid transitions, several when there is no direct one.
        ``workflow``: the statuses the issue type uses; a target outside them is refused
        before any step is taken (never wander towards a status that cannot be reached)."""
        known = {s.name.casefold(): s for s in workflow}
        if known and target.casefold() not in known:
            raise _no_path(key, f"no path to {target!r}: it is not a status of the "
                                f"{self.project} {self.issue_type} workflow")
        category = known[target.casefold()].category if known else ""
        visited: set[str] = set()
        for _ in range(MAX_TRANSITION_STEPS):
            current = await self.snapshot(key)
            if current is None:
                raise SideError(f"{key} no longer exists")
            if current.status.name.casefold() == target.casefold():
                return
            visited.add(current.status.name)
            options = [TransitionOption(t.id, JiraStatus(t.to.name,
                                                         _category(t.to.statusCategory.key)))
                       for t in await self.client.transitions(key)]
            self._graph[current.status.name].update(o.to.name for o in options)
            step = next_transition(current.status, target, options, self._graph, visited,
                                   category)
            if step is None:
                break
            await self.client.transition(key, step.id)
        raise _no_path(key, f"no path from {sorted(visited)} to {target!r} in the workflow")

    async def create(self, sci_id: str, record_id: str, fields: Mapping[str, Any]
                     ) -> CreatedIssue:
        body = {"project": {"key": self.project}, "issuetype": {"name": self.issue_type},
                **fields}
        return await self.client.create_issue(
            body, properties={keys.ISSUE_PROPERTY: keys.issue_mark(sci_id, record_id)})

    async def find_created(self, sci_id: str, record_id: str, since: float
                           ) -> CreatedIssue | None:
        """An issue an earlier attempt created for the record (found by its mark)."""
        literal = await self.client.jql_instant(datetime.fromtimestamp(since, UTC)
                                                - POLL_OVERLAP)
        jql = f"project = {self.project} AND created >= {literal} ORDER BY created ASC"
        mark = keys.issue_mark(sci_id, record_id)
        async for issue in self.client.search(jql, fields=("summary",),
                                              properties=(keys.ISSUE_PROPERTY,)):
            if issue.properties.get(keys.ISSUE_PROPERTY) == mark:
                return CreatedIssue(issue.id, issue.key)
        return None

    async def comment(self, key: str, text: str) -> None:
        await self.client.add_comment(key, text)

    async def comments(self, key: str) -> list[CommentView]:
        return [self._comment_view(c) async for c in self.client.comments(key)]

    def _comment_view(self, comment: Comment) -> CommentView:
        return CommentView(id=comment.id, text=comment.text,
                           author=comment.author.displayName,
                           created=comment.created_at.timestamp(),
                           ours=bool(self._account) and comment.author.accountId == self._account,
                           restricted=bool(comment.visibility))

    async def find_comment(self, key: str, marker: str) -> str | None:
        async for comment in self.client.comments(key):
            if comment.author.accountId == self._account and marker in comment.text:
                return comment.id
        return None

    async def add_comment(self, key: str, header: str, text: str) -> str:
        return (await self.client.add_comment(key, _with_header(header, text))).id

    async def edit_comment(self, key: str, comment_id: str, header: str, text: str) -> None:
        try:
            await self.client.edit_comment(key, comment_id, _with_header(header, text))
        except JiraError as exc:
            if exc.status != 404:  # the copy was deleted in Jira: leave it deleted
                raise

    async def delete_comment(self, key: str, comment_id: str) -> None:
        try:
            await self.client.delete_comment(key, comment_id)
        except JiraError as exc:
            if exc.status != 404:
                raise

    # -- attachments -------------------------------------------------------------------------
    async def attachments(self, key: str) -> list[AttachmentView]:
        issue = await self.client.get_issue(key, fields=["attachment"])
        return [AttachmentView(id=str(a["id"]), name=str(a.get("filename", "")),
                               size=int(a.get("size") or 0),
                               created=parse_jira_time(a["created"]).timestamp()
                               if a.get("created") else 0.0)
                for a in issue.fields.get("attachment") or []]

    def download_attachment(self, key: str, file: AttachmentView,
                            cap: int) -> AsyncIterator[bytes]:
        return self.client.download_attachment(file.id, cap=cap)

    async def upload_attachment(self, key: str, name: str,
                                open_stream: Callable[[], IO[bytes]], size: int,
                                cap: int) -> str:
        uploaded = await self.client.upload_attachment(key, name, open_stream, size=size,
                                                       cap=cap)
        return str(uploaded.id)

    async def delete_attachment(self, key: str, attachment_id: str) -> None:
        try:
            await self.client.delete_attachment(attachment_id)
        except JiraError as exc:
            if exc.status != 404:
                raise

    async def remote_link(self, key: str, record_id: str, url: str, title: str) -> None:
        await self.client.upsert_remote_link(
            key, global_id=f"zoho-bridge:{record_id}", url=url, title=title,
            relationship="Zoho record")


def _with_header(header: str, text: str) -> dict[str, Any]:
    """A copied comment: its origin line, then its body."""
    return adf.doc([{"type": "paragraph", "content": [{"type": "text", "text": header}]},
                    *adf.to_adf(text)["content"]])


def _no_path(key: str, why: str) -> NoTransition:
    return NoTransition(f"{key}: {why}", status=None, outcome=Outcome.PERMANENT,
                        error_messages=[], errors={})


def _category(key: str) -> StatusCategory:
    return key if key in ("new", "indeterminate", "done") else ""  # type: ignore[return-value]


def _kind(field: Mapping[str, Any]) -> FieldKind:
    if field.get("id") in _RICH_TEXT:
        return "rich_text"
    schema = field.get("schema") or {}
    if schema.get("type") == "array":
        return "multiselect"
    if "textarea" in str(schema.get("custom", "")):
        return "rich_text"
    return _SCHEMA_KINDS.get(str(schema.get("type")), "text")
