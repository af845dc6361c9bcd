"""Carrying out attachment copies, pairings, skips and deletions for one link.

A copy streams the file through a temporary file on disk (the upload must be re-readable
for a retried request), hashing it on the way: never the whole file in memory. An upload
is not idempotent: the outbox counts the attempt before it, and an attempt after a crash
first looks for the copy (same name and size) on the target. The mirror row is committed
with the outbox entry's completion, so it is written once even then.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO

import anyio
import msgspec

from bridge.sci import SciConfig
from bridge.sides.base import AttachmentSide, SideError, ZohoSide
from bridge.sides.jira import JiraSide
from bridge.store import Link, OutboxItem, Store
from bridge.sync.attachments import AttachmentPolicy, AttachmentView, same_file
from bridge.sync.intents import (
    CopyAttachment,
    DeleteAttachmentCopy,
    MatchAttachment,
    Side,
    SkipAttachment,
)
from bridge.sync.model import AttachmentMirror
from bridge.sync.policy import MODE_DIRECTION

AttachmentWrite = CopyAttachment | MatchAttachment | SkipAttachment | DeleteAttachmentCopy


class Filed(msgspec.Struct, frozen=True, kw_only=True):
    """What a finished attachment write changes in the mirror table."""

    files: list[AttachmentMirror] = []
    unfiled: list[AttachmentMirror] = []
    summary: str = ""


def attachment_policy(sci: SciConfig) -> AttachmentPolicy:
    direction = MODE_DIRECTION[sci.mode]
    return AttachmentPolicy(to_zoho=direction in ("to_zoho", "both"),
                            to_jira=direction in ("to_jira", "both"),
                            max_bytes=sci.attachment_max_bytes,
                            deletes=sci.attachment_deletes)


def zoho_files(zoho: ZohoSide) -> AttachmentSide:
    if not isinstance(zoho, AttachmentSide):
        raise SideError(f"attachments are not synced with Zoho {zoho.system}")
    return zoho


class AttachmentWriter:
    def __init__(self, store: Store, jira: JiraSide, zoho: ZohoSide, cap: int) -> None:
        self._store = store
        self._sides: dict[Side, AttachmentSide] = {"jira": jira, "zoho": zoho_files(zoho)}
        self._cap = cap

    async def apply(self, intent: AttachmentWrite, entry: OutboxItem, link: Link) -> Filed:
        match intent:
            case CopyAttachment():
                return await self._copy(intent, entry, link)
            case MatchAttachment():
                return Filed(files=[_row(link, intent, intent.mirror_id, intent.sha256)],
                             summary=intent.reason)
            case SkipAttachment():
                return Filed(files=[_row(link, intent, "", "")], summary=intent.reason)
            case DeleteAttachmentCopy():
                if intent.mirror_id:
                    target = _other(intent.origin)
                    await self._sides[target].delete_attachment(_item(link, target),
                                                                intent.mirror_id)
                return Filed(unfiled=[_row(link, intent, intent.mirror_id, "")],
                             summary=intent.reason)

    async def _copy(self, intent: CopyAttachment, entry: OutboxItem, link: Link) -> Filed:
        source, target = self._sides[intent.origin], self._sides[_other(intent.origin)]
        source_item, target_item = _item(link, intent.origin), _item(link, _other(intent.origin))
        wanted = AttachmentView(id=intent.origin_id, name=intent.name, size=intent.size,
                                sha256=intent.sha256)
        with tempfile.TemporaryDirectory(prefix="bridge-attachment-") as folder:
            spooled = Path(folder) / "file"
            sha256 = await _spool(source.download_attachment(source_item, wanted, self._cap),
                                  spooled)
            found = None
            if entry.attempts > 0:  # an earlier attempt may have uploaded it before failing
                found = next((f.id for f in await target.attachments(target_item)
                              if same_file(f, wanted)), None)
            if found is None:
                await self._store.outbox_started(entry.id)
                found = await target.upload_attachment(target_item, intent.name,
                                                       _opener(spooled), intent.size,
                                                       self._cap)
        return Filed(files=[_row(link, intent, found, sha256)], summary=intent.reason)


async def _spool(chunks: AsyncIterator[bytes], path: Path) -> str:
    """Write a download to ``path`` chunk by chunk; the sha256 of its bytes."""
    digest = hashlib.sha256()
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in chunks:
            digest.update(chunk)
            await out.write(chunk)
    return digest.hexdigest()


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _item(link: Link, side: Side) -> str:
    return link.jira_issue_key if side == "jira" else link.zoho_record_id


def _other(side: Side) -> Side:
    return "zoho" if side == "jira" else "jira"


def _row(link: Link, intent: AttachmentWrite, mirror_id: str, sha256: str) -> AttachmentMirror:
    name = getattr(intent, "name", "")
    size = getattr(intent, "size", 0)
    return AttachmentMirror(link_id=link.id, origin=intent.origin, origin_id=intent.origin_id,
                            mirror_id=mirror_id, sha256=sha256, name=name, size=size)
