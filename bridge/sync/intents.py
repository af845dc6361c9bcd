"""What the decision core asks the shell to do: a closed tagged union of frozen values.

Every intent carries a ``reason`` (for history and logs). Writes carry ``agreed``: the
canonical values both sides share once the write succeeded, merged into the link's base.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Side = Literal["jira", "zoho"]


class _Intent(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    reason: str = ""


class UpdateJira(_Intent, frozen=True):
    key: str
    fields: dict[str, Any]
    agreed: dict[str, Any] = {}


class TransitionJira(_Intent, frozen=True):
    key: str
    status: str
    agreed_zoho_status: str  # the Zoho-side status token this transition answers


class UpdateZoho(_Intent, frozen=True):
    record_id: str
    fields: dict[str, Any]
    agreed: dict[str, Any] = {}
    unmodified_since: float = 0.0  # refuse the write if Zoho changed after this (epoch s)


class SetZohoStatus(_Intent, frozen=True):
    record_id: str
    status: str
    agreed_jira_status: str


class CreateJiraIssue(_Intent, frozen=True):
    record_id: str
    fields: dict[str, Any]
    status: str = ""  # move the new issue here (conditional rule / status sync)
    agreed: dict[str, Any] = {}
    zoho_status: str = ""


class WriteLinkNote(_Intent, frozen=True):
    record_id: str
    link_id: str
    jira_key: str
    jira_id: str
    origin: str


class AddRemoteLink(_Intent, frozen=True):
    key: str
    record_id: str
    url: str
    title: str


class CopyCommentToZoho(_Intent, frozen=True):
    """Copy a Jira comment (``text`` in markup, see ``adapters.jira.adf``) to the record."""

    origin_id: str
    header: str  # the visible origin line, also how a lost copy is found again
    text: str
    digest: str


class CopyCommentToJira(_Intent, frozen=True):
    origin_id: str
    header: str
    text: str
    digest: str


class EditMirror(_Intent, frozen=True):
    """The original comment was edited: rewrite its copy on the other side."""

    origin: Side
    origin_id: str
    mirror_id: str
    header: str
    text: str
    digest: str


class DeleteMirror(_Intent, frozen=True):
    """The original comment was deleted (or became restricted): delete its copy."""

    origin: Side
    origin_id: str
    mirror_id: str


class CopyAttachment(_Intent, frozen=True):
    """Copy a file from its ``origin`` side to the other side of the link."""

    origin: Side
    origin_id: str
    name: str
    size: int
    sha256: str = ""  # as listed, when the side lists it


class MatchAttachment(_Intent, frozen=True):
    """The same file is already on both sides: record the pair, copy nothing."""

    origin: Side
    origin_id: str
    mirror_id: str
    name: str
    size: int
    sha256: str = ""


class SkipAttachment(_Intent, frozen=True):
    """A file that may not be copied (over the SCI's size cap): recorded once, reported."""

    origin: Side
    origin_id: str
    name: str
    size: int


class DeleteAttachmentCopy(_Intent, frozen=True):
    """The original file is gone: delete its copy (none when ``mirror_id`` is empty) and
    forget the pair."""

    origin: Side
    origin_id: str
    mirror_id: str


class Agree(_Intent, frozen=True):
    """Both sides already match: record it in the base without writing anywhere."""

    fields: dict[str, Any] = {}
    jira_status: str | None = None
    zoho_status: str | None = None


class Conflict(_Intent, frozen=True):
    field: str
    jira_value: Any
    zoho_value: Any
    winner: str


class Problem(_Intent, frozen=True):
    field: str = ""


Intent = (UpdateJira | TransitionJira | UpdateZoho | SetZohoStatus | CreateJiraIssue
          | WriteLinkNote | AddRemoteLink | CopyCommentToZoho | CopyCommentToJira | EditMirror
          | DeleteMirror | CopyAttachment | MatchAttachment | SkipAttachment
          | DeleteAttachmentCopy | Agree | Conflict | Problem)
COMMENT_WRITES = (CopyCommentToZoho, CopyCommentToJira, EditMirror, DeleteMirror)
ATTACHMENT_WRITES = (CopyAttachment, MatchAttachment, SkipAttachment, DeleteAttachmentCopy)
WRITES = (UpdateJira, TransitionJira, UpdateZoho, SetZohoStatus, CreateJiraIssue,
          WriteLinkNote, AddRemoteLink, *COMMENT_WRITES, *ATTACHMENT_WRITES)

_decoder = msgspec.json.Decoder(Intent)


def encode(intent: Intent) -> bytes:
    return msgspec.json.encode(intent)


def decode(raw: bytes) -> Intent:
    return _decoder.decode(raw)
