"""Jira's JSON shapes for the simulator's state, per API version (2: strings, 3: ADF)."""

from __future__ import annotations

from typing import Any

from adapters.jira import adf
from adapters.jira.simulator.state import (
    CATEGORIES,
    Attachment,
    Comment,
    Issue,
    Project,
    Status,
    User,
)
from adapters.jira.timefmt import format_time

JSON_TYPE = "application/json;charset=UTF-8"


class View:
    """Where and how to render: the request's origin and API version."""

    def __init__(self, base: str, version: str) -> None:
        self.base = base
        self.version = version
        self.api = f"{base}/rest/api/{version}"

    def text(self, document: dict[str, Any] | None) -> Any:
        if self.version == "3":
            return document
        return adf.to_text(document) if document else None

    def user(self, user: User | None) -> dict[str, Any] | None:
        if user is None:
            return None
        return {"self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id, "displayName": user.name,
                "emailAddress": user.email, "active": True, "timeZone": "UTC",
                "accountType": "atlassian",
                "avatarUrls": {"48x48": f"{self.base}/avatar/{user.account_id}"}}

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
                "created": format_time(comment.created),
                "updated": format_time(comment.updated), "jsdPublic": True}

    def attachment(self, attachment: Attachment, metadata: bool = False) -> dict[str, Any]:
        return {"self": f"{self.api}/attachments/{attachment.id}",
                "id": int(attachment.id) if metadata else attachment.id,
                "filename": attachment.filename, "author": self.user(attachment.author),
                "created": format_time(attachment.created), "size": len(attachment.content),
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
            "labels": stored.get("labels", []),
            "priority": stored.get("priority", {"id": "3", "name": "Medium"}),
            "assignee": stored.get("assignee"),
            "reporter": self.user(issue.reporter),
            "created": format_time(issue.created),
            "updated": format_time(issue.updated),
            "duedate": stored.get("duedate"),
            "resolution": {"id": "10000", "name": "Done"} if done else None,
            "resolutiondate": format_time(issue.updated) if done else None,
            "comment": {"comments": [self.comment(c, issue) for c in issue.comments],
                        "maxResults": len(issue.comments), "total": len(issue.comments),
                        "startAt": 0},
            "attachment": [self.attachment(a) for a in issue.attachments],
        }
        for key, value in stored.items():
            if key.startswith("customfield_"):
                rendered[key] = value
        return rendered

    def issue(self, issue: Issue, selected: set[str] | None = None,
              expand: set[str] | None = None,
              properties: set[str] | None = None) -> dict[str, Any]:
        fields = self.fields(issue)
        if selected is not None:
            fields = {k: v for k, v in fields.items() if k in selected}
        body: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                      "versionedRepresentations",
            "id": issue.id, "self": f"{self.api}/issue/{issue.id}", "key": issue.key,
            "fields": fields,
        }
        if expand and "changelog" in expand:
            body["changelog"] = self.changelog(issue)
        if properties:
            body["properties"] = {k: v for k, v in issue.properties.items() if k in properties}
        return body

    def changelog(self, issue: Issue) -> dict[str, Any]:
        histories = [{"id": h["id"], "author": self.user(h["author"]),
                      "created": format_time(h["created"]), "items": h["items"]}
                     for h in issue.changelog]
        return {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                "histories": histories}


def selection(raw: list[str], default: str) -> set[str] | None:
    """``fields`` parameter (comma lists, possibly repeated) → selected names, None = all."""
    names = [n.strip() for value in (raw or [default]) for n in value.split(",") if n.strip()]
    if any(n in ("*all", "*navigable") for n in names):
        return None
    return {n for n in names if n != "id"}
