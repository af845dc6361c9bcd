"""Carrying out comment copies, rewrites and deletions for one link.

A copy is not idempotent: the outbox counts the attempt before the remote write, and an
attempt after a crash first looks for the copy by its origin line. The mirror row is
committed with the outbox entry's completion, so it is written once even then.
"""

from __future__ import annotations

import msgspec

from bridge.sci import SciConfig
from bridge.sides.base import ZohoSide
from bridge.sides.jira import JiraSide
from bridge.store import Link, OutboxItem, Store
from bridge.sync.comments import JIRA_LABEL, CommentPolicy, marker
from bridge.sync.intents import (
    CopyCommentToJira,
    CopyCommentToZoho,
    DeleteMirror,
    EditMirror,
    Intent,
)
from bridge.sync.model import CommentMirror
from bridge.sync.policy import MODE_DIRECTION

CommentWrite = CopyCommentToZoho | CopyCommentToJira | EditMirror | DeleteMirror


class Mirrored(msgspec.Struct, frozen=True, kw_only=True):
    """What a finished comment write changes in the mirror table."""

    mirrors: list[CommentMirror] = []
    unmirrored: list[CommentMirror] = []
    summary: str = ""


def comment_policy(sci: SciConfig, zoho: ZohoSide) -> CommentPolicy:
    direction = MODE_DIRECTION[sci.mode]
    return CommentPolicy(to_zoho=direction in ("to_zoho", "both"),
                         to_jira=direction in ("to_jira", "both"),
                         copy_restricted=sci.comments_restricted,
                         zoho_label=zoho.comment_label)


class CommentWriter:
    def __init__(self, store: Store, jira: JiraSide, zoho: ZohoSide) -> None:
        self._store = store
        self._jira = jira
        self._zoho = zoho

    async def apply(self, intent: CommentWrite, entry: OutboxItem, link: Link) -> Mirrored:
        match intent:
            case CopyCommentToZoho() | CopyCommentToJira():
                return await self._copy(intent, entry, link)
            case EditMirror():
                await self._edit(intent, link)
                return Mirrored(mirrors=[_row(link, intent, intent.mirror_id)],
                                summary=intent.reason)
            case DeleteMirror():
                if intent.origin == "jira":
                    await self._zoho.delete_comment(link.zoho_record_id, intent.mirror_id)
                else:
                    await self._jira.delete_comment(link.jira_issue_key, intent.mirror_id)
                return Mirrored(unmirrored=[_row(link, intent, intent.mirror_id)],
                                summary=intent.reason)

    async def _copy(self, intent: CopyCommentToZoho | CopyCommentToJira, entry: OutboxItem,
                    link: Link) -> Mirrored:
        to_zoho = isinstance(intent, CopyCommentToZoho)
        found = None
        if entry.attempts > 0:  # an earlier attempt may have written it before failing
            label = JIRA_LABEL if to_zoho else self._zoho.comment_label
            found = await (self._zoho.find_comment(link.zoho_record_id,
                                                   marker(label, intent.origin_id))
                           if to_zoho else
                           self._jira.find_comment(link.jira_issue_key,
                                                   marker(label, intent.origin_id)))
        if found is None:
            await self._store.outbox_started(entry.id)
            found = await (self._zoho.add_comment(link.zoho_record_id, intent.header,
                                                  intent.text)
                           if to_zoho else
                           self._jira.add_comment(link.jira_issue_key, intent.header,
                                                  intent.text))
        return Mirrored(mirrors=[_row(link, intent, found)], summary=intent.reason)

    async def _edit(self, intent: EditMirror, link: Link) -> None:
        if intent.origin == "jira":
            await self._zoho.edit_comment(link.zoho_record_id, intent.mirror_id,
                                          intent.header, intent.text)
        else:
            await self._jira.edit_comment(link.jira_issue_key, intent.mirror_id,
                                          intent.header, intent.text)


def _row(link: Link, intent: Intent, mirror_id: str) -> CommentMirror:
    match intent:
        case CopyCommentToZoho():
            return CommentMirror(link_id=link.id, origin="jira", origin_id=intent.origin_id,
                                 mirror_id=mirror_id, digest=intent.digest)
        case CopyCommentToJira():
            return CommentMirror(link_id=link.id, origin="zoho", origin_id=intent.origin_id,
                                 mirror_id=mirror_id, digest=intent.digest)
        case EditMirror():
            return CommentMirror(link_id=link.id, origin=intent.origin,
                                 origin_id=intent.origin_id, mirror_id=mirror_id,
                                 digest=intent.digest)
        case DeleteMirror():
            return CommentMirror(link_id=link.id, origin=intent.origin,
                                 origin_id=intent.origin_id, mirror_id=mirror_id, digest="")
    raise TypeError(f"not a comment write: {type(intent).__name__}")
