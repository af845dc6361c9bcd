"""Which SCIs a Jira event concerns (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import msgspec
from msgspec import Meta

from bridge.sci import SciConfig

# The shapes Jira gives the fields we route on; anything else is refused at the edge.
EventName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)?\Z", max_length=100)]
ProjectKey = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]*\Z", max_length=255)]
IssueKey = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]*-[0-9]+\Z", max_length=255)]
Name = Annotated[str, Meta(pattern=r"^[^\x00-\x1f\x7f]*\Z", max_length=255)]


class _Project(msgspec.Struct):
    key: ProjectKey = ""


class _IssueType(msgspec.Struct):
    name: Name = ""


class _IssueFields(msgspec.Struct):
    project: _Project | None = None
    issuetype: _IssueType | None = None


class _Issue(msgspec.Struct):
    key: IssueKey = ""
    fields: _IssueFields | None = None


class _Attachment(msgspec.Struct):
    id: int | Annotated[str, Meta(max_length=64)] = ""


class JiraEventView(msgspec.Struct):
    """The few fields of a Jira webhook body that routing needs."""

    webhookEvent: EventName
    issue: _Issue | None = None
    attachment: _Attachment | None = None  # attachment events name no issue


_decoder = msgspec.json.Decoder(JiraEventView)


class NotAnEvent(ValueError):
    pass


def decode_event(body: bytes) -> JiraEventView:
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise NotAnEvent(f"not a Jira event: {exc}") from None
    except msgspec.DecodeError as exc:
        raise NotAnEvent(f"malformed JSON: {exc}") from None


def scope_of(event: JiraEventView) -> tuple[str, str | None]:
    """(project key, issue type name or None when the payload does not say)."""
    issue = event.issue
    if issue is None:
        return "", None
    fields = issue.fields
    project = fields.project.key if fields and fields.project else ""
    if not project and issue.key:
        project = issue.key.rsplit("-", 1)[0]
    issue_type = fields.issuetype.name if fields and fields.issuetype else None
    return project, issue_type or None


def route(event: JiraEventView, scis: Iterable[SciConfig]) -> list[str]:
    """SCI ids for the event. Without an issue type, every SCI of the project gets it and
    the actor decides after fetching the issue (never drop an event we cannot classify)."""
    project, issue_type = scope_of(event)
    if not project:
        return _attachment_scis(event, scis)
    return [
        sci.id
        for sci in scis
        if sci.enabled
        and (
            sci.applies_to(project, issue_type)
            if issue_type is not None
            else project in sci.jira_projects
        )
    ]


def _attachment_scis(event: JiraEventView, scis: Iterable[SciConfig]) -> list[str]:
    """An attachment event names no issue: every SCI that syncs attachments gets it and
    finds the issue from the attachment (or knows it is not one of its own)."""
    if event.attachment is None:
        return []
    return [sci.id for sci in scis if sci.enabled and sci.synchronized and sci.attachments]
