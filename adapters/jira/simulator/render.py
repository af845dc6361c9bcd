"""Jira's JSON shapes for the simulator's state, per API version (2: strings, 3: ADF)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.jira import adf
from adapters.jira.simulator.state import (
    CATEGORIES,
    DEFAULT_PRIORITY,
    FIELD_NAMES,
    SELECT_OPTIONS,
    Attachment,
    Comment,
    Issue,
    Project,
    Status,
    Transition,
    User,
)
from adapters.jira.timefmt import format_time

JSON_TYPE = "application/json;charset=UTF-8"


class View:
    """Where and how to render: the request's origin, API version and caller's zone."""

    def __init__(self, base: str, version: str, zone: ZoneInfo) -> None:
        self.base = base
        self.version = version
        self.zone = zone
        self.api = f"{base}/rest/api/{version}"

    def as_v2(self) -> View:
        """Webhook bodies use REST v2 shapes whatever API version caused them."""
        return View(self.base, "2", self.zone)

    def time(self, moment: datetime) -> str:
        return format_time(moment, self.zone)

    def text(self, document: dict[str, Any] | None) -> Any:
        if self.version == "3":
            return document
        return adf.to_text(document) if document else None

    def user(self, user: User | None) -> dict[str, Any] | None:
        if user is None:
            return None
        return {"self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id, "displayName": user.name,
                "emailAddress": user.email if user.email_visible else None, "active": True,
                "timeZone": user.time_zone, "accountType": "atlassian",
                "avatarUrls": {size: f"{self.base}/avatar/{user.account_id}?s={size[:2]}"
                               for size in ("48x48", "24x24", "16x16", "32x32")}}

    def account(self, user: User) -> dict[str, Any]:
        """``/myself`` and ``/user`` give a ``User``: the embedded ``UserDetails`` + locale."""
        return {**(self.user(user) or {}), "locale": "en_US"}

    def priority(self, priority: tuple[str, str]) -> dict[str, Any]:
        priority_id, name = priority
        return {"self": f"{self.api}/priority/{priority_id}", "id": priority_id, "name": name,
                "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg"}

    def option(self, field_id: str, option_id: str) -> dict[str, Any]:
        return {"self": f"{self.api}/customFieldOption/{option_id}", "id": option_id,
                "value": SELECT_OPTIONS[field_id][option_id]}

    def category(self, key: str) -> dict[str, Any]:
        category = CATEGORIES[key]
        return {"self": f"{self.api}/statuscategory/{category['id']}", **category}

    def status(self, status: Status) -> dict[str, Any]:
        return {"self": f"{self.api}/status/{status.id}", "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
                "name": status.name, "id": status.id,
                "statusCategory": self.category(status.category)}

    def project(self, project: Project) -> dict[str, Any]:
        return {"self": f"{self.api}/project/{project.id}", "id": project.id,
                "key": project.key, "name": project.name, "projectTypeKey": "software",
                "simplified": False, "avatarUrls": {}}

    def issue_type(self, type_id: str, name: str) -> dict[str, Any]:
        return {"self": f"{self.api}/issuetype/{type_id}", "id": type_id, "name": name,
                "description": "", "subtask": False, "hierarchyLevel": 0,
                "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower()}.png"}

    def comment(self, comment: Comment, issue: Issue) -> dict[str, Any]:
        return {"self": f"{self.api}/issue/{issue.id}/comment/{comment.id}", "id": comment.id,
                "author": self.user(comment.author), "body": self.text(comment.body),
                "updateAuthor": self.user(comment.update_author or comment.author),
                "created": self.time(comment.created),
                "updated": self.time(comment.updated), "jsdPublic": True,
                **({"visibility": comment.visibility} if comment.visibility else {})}

    def attachment(self, attachment: Attachment, metadata: bool = False) -> dict[str, Any]:
        return {"self": f"{self.api}/attachments/{attachment.id}",
                "id": int(attachment.id) if metadata else attachment.id,
                "filename": attachment.filename, "author": self.user(attachment.author),
                "created": self.time(attachment.created), "size": len(attachment.content),
                "mimeType": attachment.mime_type,
                "content": f"{self.api}/attachment/content/{attachment.id}",
                "thumbnail": f"{self.api}/attachment/thumbnail/{attachment.id}"}

    def fields(self, issue: Issue) -> dict[str, Any]:
        stored = issue.fields
        done = issue.status.category == "done"
        rendered: dict[str, Any] = {
            "summary": stored.get("summary", ""),
            "description": self.text(stored.get("description")),
            "issuetype": self.issue_type(*issue.issue_type),
            "project": self.project(issue.project),
            "status": self.status(issue.status),
            "environment": self.text(stored.get("environment")),
            "labels": stored.get("labels", []),
            "priority": self.priority(stored.get("priority", DEFAULT_PRIORITY)),
            "assignee": self.user(stored.get("assignee")),
            "reporter": self.user(issue.reporter),
            "created": self.time(issue.created),
            "updated": self.time(issue.updated),
            "duedate": stored.get("duedate"),
            "resolution": {"id": "10000", "name": "Done"} if done else None,
            "resolutiondate": self.time(issue.updated) if done else None,
            "comment": {"comments": [self.comment(c, issue) for c in issue.comments],
                        "maxResults": len(issue.comments), "total": len(issue.comments),
                        "startAt": 0},
            "attachment": [self.attachment(a) for a in issue.attachments],
        }
        for key, value in stored.items():
            if key in SELECT_OPTIONS:
                rendered[key] = self.option(key, value) if value is not None else None
            elif key.startswith("customfield_"):
                rendered[key] = value
        return rendered

    def issue(self, issue: Issue, selected: set[str] | None = None,
              expand: set[str] | None = None,
              properties: set[str] | None = None) -> dict[str, Any]:
        """An IssueBean; ``properties`` names entity properties to include (``*all``)."""
        fields = self.fields(issue)
        if selected is not None:
            fields = {k: v for k, v in fields.items() if k in selected}
        body: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                      "versionedRepresentations",
            "id": issue.id, "self": f"{self.api}/issue/{issue.id}", "key": issue.key,
            "fields": fields,
        }
        expand = expand or set()
        if "changelog" in expand:
            body["changelog"] = self.changelog(issue)
        if "transitions" in expand:
            body["transitions"] = self.transitions(issue)
        if "names" in expand:
            body["names"] = names_of([fields])
        if properties:
            body["properties"] = {k: v for k, v in issue.properties.items()
                                  if "*all" in properties or k in properties}
        return body

    def transitions(self, issue: Issue) -> list[dict[str, Any]]:
        workflow = issue.project.workflow
        return [self.transition(t, workflow.status(t.to))
                for t in workflow.available(issue.status_id)]

    def transition(self, transition: Transition, target: Status) -> dict[str, Any]:
        return {"id": transition.id, "name": transition.name, "to": self.status(target),
                "hasScreen": False, "isGlobal": not transition.sources, "isInitial": False,
                "isAvailable": True, "isConditional": False, "isLooped": False}

    def changelog(self, issue: Issue) -> dict[str, Any]:
        histories = [{"id": h["id"], "author": self.user(h["author"]),
                      "created": self.time(h["created"]), "items": h["items"]}
                     for h in issue.changelog]
        return {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                "histories": histories}


def names_of(field_sets: list[dict[str, Any]]) -> dict[str, str]:
    """``expand=names``: display name of every field id that appears."""
    return {fid: FIELD_NAMES.get(fid, fid) for fields in field_sets for fid in fields}


def selection(raw: list[str], default: str) -> set[str] | None:
    """``fields`` parameter (comma lists, possibly repeated) → selected names, None = all."""
    names = [n.strip() for value in (raw or [default]) for n in value.split(",") if n.strip()]
    if any(n in ("*all", "*navigable") for n in names):
        return None
    return {n for n in names if n != "id"}
