"""In-memory Jira Cloud: projects with workflows, issues, comments, attachments, links.

Everything is stored once; the HTTP layer renders it for v2 (plain strings) or v3 (ADF).
Ids are deterministic: issues, comments and attachments count up from 10000. Search reads
an index that can lag behind the issues (``index_delay``), as Jira Cloud's does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapters.jira import adf
from adapters.jira.simulator.clock import SimClock

CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow",
                      "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
ISSUE_TYPES = [("10001", "Task"), ("10002", "Bug"), ("10003", "Story")]
SUMMARY_LIMIT = 255
DEFAULT_TIME_ZONE = "America/Los_Angeles"
PRIORITIES = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")]
DEFAULT_PRIORITY = ("3", "Medium")


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str  # status id
    sources: tuple[str, ...] = ()  # empty = from any status (global transition)


@dataclass
class Workflow:
    statuses: list[Status]
    transitions: list[Transition]

    def status(self, status_id: str) -> Status:
        return next(s for s in self.statuses if s.id == status_id)

    def available(self, current: str) -> list[Transition]:
        return [t for t in self.transitions
                if (not t.sources or current in t.sources) and t.to != current]


def default_workflow() -> Workflow:
    """To Do → In Progress → Done; Done can only be reopened to In Progress."""
    return Workflow(
        statuses=[Status("10000", "To Do", "new"), Status("3", "In Progress", "indeterminate"),
                  Status("10001", "Done", "done")],
        transitions=[Transition("11", "To Do", "10000", ("3",)),
                     Transition("21", "In Progress", "3", ("10000",)),
                     Transition("31", "Done", "10001", ("10000", "3")),
                     Transition("41", "Reopen", "3", ("10001",))],
    )


def review_workflow() -> Workflow:
    return Workflow(
        statuses=[Status("10000", "To Do", "new"), Status("3", "In Progress", "indeterminate"),
                  Status("10002", "In Review", "indeterminate"),
                  Status("10001", "Done", "done")],
        transitions=[Transition("21", "Start", "3", ("10000",)),
                     Transition("51", "Review", "10002", ("3",)),
                     Transition("31", "Done", "10001", ("10002",)),
                     Transition("11", "Back to To Do", "10000")],
    )


@dataclass
class Project:
    id: str
    key: str
    name: str
    workflow: Workflow
    next_number: int = 1


@dataclass
class User:
    account_id: str
    name: str
    email: str
    time_zone: str = DEFAULT_TIME_ZONE
    email_visible: bool = True  # False = the user's privacy setting hides it (null)


@dataclass
class Comment:
    id: str
    body: dict[str, Any]  # ADF
    author: User
    created: datetime
    updated: datetime
    update_author: User | None = None
    visibility: dict[str, str] | None = None  # restricted to a role or group


@dataclass
class Attachment:
    id: str
    issue_id: str
    filename: str
    mime_type: str
    content: bytes
    author: User
    created: datetime


@dataclass
class RemoteLink:
    id: int
    global_id: str | None
    body: dict[str, Any]


@dataclass
class Issue:
    id: str
    key: str
    project: Project
    issue_type: tuple[str, str]
    status_id: str
    reporter: User
    created: datetime
    updated: datetime
    fields: dict[str, Any] = field(default_factory=dict)  # summary, description(ADF), labels …
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    remote_links: list[RemoteLink] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    changelog: list[dict[str, Any]] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)  # for the per-issue write limit
    indexed: dict[str, Any] | None = None  # what search sees; None = not indexed yet
    pending_index: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return self.project.workflow.status(self.status_id)

    def query_view(self) -> dict[str, Any]:
        return {"project": self.project.key, "issuetype": self.issue_type[1], "key": self.key,
                "id": self.id, "status": self.status.name,
                "summary": self.fields.get("summary", ""), "updated": self.updated,
                "created": self.created, "labels": list(self.fields.get("labels") or []),
                "assignee": getattr(self.fields.get("assignee"), "account_id", None)}


CUSTOM_FIELDS: list[dict[str, Any]] = [
    {"id": "customfield_10010", "name": "Zoho Record", "schema": {"type": "string",
     "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield"}},
    {"id": "customfield_10011", "name": "Deal Amount", "schema": {"type": "number",
     "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}},
    {"id": "customfield_10012", "name": "Region", "schema": {"type": "option",
     "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"}},
]
SYSTEM_FIELDS = [
    ("summary", "Summary", "string"), ("description", "Description", "string"),
    ("environment", "Environment", "string"),
    ("issuetype", "Issue Type", "issuetype"), ("project", "Project", "project"),
    ("status", "Status", "status"), ("labels", "Labels", "array"),
    ("priority", "Priority", "priority"), ("assignee", "Assignee", "user"),
    ("reporter", "Reporter", "user"), ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"), ("duedate", "Due date", "date"),
    ("comment", "Comment", "comments-page"), ("attachment", "Attachment", "array"),
    ("resolution", "Resolution", "resolution"),
    ("resolutiondate", "Resolved", "datetime"),
]
FIELD_NAMES = {**{fid: name for fid, name, _ in SYSTEM_FIELDS},
               **{f["id"]: f["name"] for f in CUSTOM_FIELDS}}
SELECT_OPTIONS = {"customfield_10012": {"10100": "EMEA", "10101": "Americas", "10102": "APAC"}}


class JiraState:
    def __init__(self, *, seed: bool = True, clock: SimClock | None = None,
                 time_zone: str = DEFAULT_TIME_ZONE, index_delay: float = 0.0) -> None:
        self.clock = clock or SimClock()
        self.index_delay = index_delay  # seconds before a change is visible to search
        self.users = [User("5b10a2844c20165700ede21g", "Bridge Bot", "bridge@example.com",
                           time_zone),
                      User("5b10ac8d82e05b22cc7d4ef5", "Ann Agent", "ann@example.com",
                           time_zone)]
        self.projects: dict[str, Project] = {}
        self.issues: dict[str, Issue] = {}
        self._issue_ids = itertools.count(10000)
        self._comment_ids = itertools.count(10000)
        self._attachment_ids = itertools.count(10000)
        self._link_ids = itertools.count(10000)
        self._history_ids = itertools.count(10000)
        self.add_project("SUP", "Support", default_workflow())
        self.add_project("ENG", "Engineering", review_workflow())
        if seed:
            self._seed()

    def now(self) -> datetime:
        """Jira keeps timestamps to the millisecond."""
        moment = self.clock.now()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def user(self, account_id: str) -> User | None:
        return next((u for u in self.users if u.account_id == account_id), None)

    def add_project(self, key: str, name: str, workflow: Workflow) -> Project:
        project = Project(str(10000 + len(self.projects)), key, name, workflow)
        self.projects[key] = project
        return project

    def project(self, id_or_key: str) -> Project | None:
        return self.projects.get(id_or_key) or next(
            (p for p in self.projects.values() if p.id == id_or_key), None)

    def issue(self, id_or_key: str) -> Issue | None:
        found = self.issues.get(id_or_key)
        if found:
            return found
        wanted = id_or_key.upper()
        return next((i for i in self.issues.values() if i.key == wanted), None)

    def create_issue(self, project: Project, issue_type: tuple[str, str], fields: dict[str, Any],
                     reporter: User) -> Issue:
        now = self.now()
        defaults: dict[str, Any] = {"labels": [], "priority": DEFAULT_PRIORITY}
        issue = Issue(str(next(self._issue_ids)), f"{project.key}-{project.next_number}",
                      project, issue_type, project.workflow.statuses[0].id, reporter, now, now,
                      {**defaults, **fields})
        project.next_number += 1
        self.issues[issue.id] = issue
        self.reindex(issue)
        return issue

    def record_change(self, issue: Issue, author: User, items: list[dict[str, Any]]) -> str:
        """Bump ``updated``, append a changelog entry; returns the entry's id."""
        self.touch(issue)
        history_id = str(next(self._history_ids))
        issue.changelog.append({"id": history_id, "author": author, "created": issue.updated,
                                "items": items})
        return history_id

    def touch(self, issue: Issue) -> None:
        issue.updated = self.now()
        self.reindex(issue)

    def reindex(self, issue: Issue) -> None:
        snapshot = issue.query_view()
        if self.index_delay <= 0:
            issue.indexed, issue.pending_index = snapshot, []
        else:
            visible_at = self.now() + timedelta(seconds=self.index_delay)
            issue.pending_index.append((visible_at, snapshot))

    def searchable(self, issue: Issue) -> dict[str, Any] | None:
        """The issue as the search index currently sees it (None = not visible yet)."""
        now = self.now()
        while issue.pending_index and issue.pending_index[0][0] <= now:
            issue.indexed = issue.pending_index.pop(0)[1]
        return issue.indexed

    def add_comment(self, issue: Issue, body: dict[str, Any], author: User) -> Comment:
        now = self.now()
        comment = Comment(str(next(self._comment_ids)), body, author, now, now)
        issue.comments.append(comment)
        self.touch(issue)
        return comment

    def add_attachment(self, issue: Issue, filename: str, mime: str, content: bytes,
                       author: User) -> Attachment:
        attachment = Attachment(str(next(self._attachment_ids)), issue.id, filename, mime,
                                content, author, self.now())
        issue.attachments.append(attachment)
        return attachment

    def attachment(self, attachment_id: str) -> Attachment | None:
        return next((a for i in self.issues.values() for a in i.attachments
                     if a.id == attachment_id), None)

    def next_link_id(self) -> int:
        return next(self._link_ids)

    def _seed(self) -> None:
        bot = self.users[0]
        samples = [
            ("SUP", "Task", "Customer cannot export invoices", "Export fails for **PDF** files."),
            ("SUP", "Task", "Renewal call for Acme Corp", "Prepare the renewal offer."),
            ("SUP", "Bug", "Login page times out", "Seen by three customers."),
            ("ENG", "Story", "Bulk import of leads", "- CSV upload\n- duplicate check"),
        ]
        for key, type_name, summary, description in samples:
            issue_type = next(t for t in ISSUE_TYPES if t[1] == type_name)
            self.create_issue(self.projects[key], issue_type,
                              {"summary": summary, "description": adf.to_adf(description),
                               "labels": []}, bot)
