"""Which files to copy, pair up, skip or delete between the two sides of one link.

Each file is copied once. The mirror table (``AttachmentMirror`` rows) says which files
have a copy and which files are copies: a copy is never copied back. A file already on
both sides (same content hash, or same name and size where a side lists no hash) is paired,
not copied again. Files over the cap are skipped and reported once. Deleting an original
deletes its copy only when the policy says so; otherwise the pair stays recorded, so the
remaining copy is not mistaken for a new file.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from bridge.sync.intents import (
    CopyAttachment,
    DeleteAttachmentCopy,
    Intent,
    MatchAttachment,
    Problem,
    Side,
    SkipAttachment,
)
from bridge.sync.model import AttachmentMirror


class AttachmentView(msgspec.Struct, frozen=True, kw_only=True):
    """One file attached to a Jira issue or a Zoho record, as listed just now."""

    id: str
    name: str
    size: int
    sha256: str = ""  # when the side lists it
    created: float = 0.0  # epoch s, orders copies


class AttachmentPolicy(msgspec.Struct, frozen=True, kw_only=True):
    to_zoho: bool = True
    to_jira: bool = True
    max_bytes: int = 10 * 1024 * 1024
    deletes: bool = False  # deleting an original deletes its copy


def same_file(a: AttachmentView, b: AttachmentView) -> bool:
    if a.sha256 and b.sha256:
        return a.sha256 == b.sha256
    return a.name == b.name and a.size == b.size


def zoho_files_changed(mirrors: Sequence[AttachmentMirror], listed: set[str],
                       policy: AttachmentPolicy) -> bool:
    """Whether a Zoho record's file list holds something for a pass to do: a file the
    mirror table does not know, or (when deletes follow) a Zoho original that is gone."""
    known = {m.origin_id if m.origin == "zoho" else m.mirror_id for m in mirrors}
    originals = {m.origin_id for m in mirrors if m.origin == "zoho" and m.mirror_id}
    return bool(listed - known) or (policy.deletes and not originals <= listed)


def decide_attachments(mirrors: Sequence[AttachmentMirror], jira: Sequence[AttachmentView],
                       zoho: Sequence[AttachmentView], policy: AttachmentPolicy
                       ) -> list[Intent]:
    """Pairs and copies (oldest file first), then skips, then deletions."""
    listed: dict[Side, dict[str, AttachmentView]] = {"jira": _unique(jira),
                                                     "zoho": _unique(zoho)}
    rows = {(m.origin, m.origin_id): m for m in mirrors}
    copies = {(_other(m.origin), m.mirror_id) for m in mirrors if m.mirror_id}
    new = {side: [a for a in files.values()
                  if (side, a.id) not in rows and (side, a.id) not in copies]
           for side, files in listed.items()}
    decided: list[Intent] = []
    for jira_file, zoho_file in _pairs(new["jira"], new["zoho"]):
        origin: Side = "jira" if jira_file.created <= zoho_file.created else "zoho"
        original, copy = ((jira_file, zoho_file) if origin == "jira"
                          else (zoho_file, jira_file))
        decided.append(MatchAttachment(
            origin=origin, origin_id=original.id, mirror_id=copy.id, name=original.name,
            size=original.size, sha256=original.sha256 or copy.sha256,
            reason=f"{origin} attachment {original.name} is already on both sides"))
        new["jira"].remove(jira_file)
        new["zoho"].remove(zoho_file)
    for side in ("jira", "zoho"):
        skipped = [listed[side][m.origin_id] for m in mirrors
                   if m.origin == side and not m.mirror_id and m.origin_id in listed[side]]
        decided += _copies(side, sorted(new[side] + skipped, key=_age), rows, policy)
    decided += _deletions(mirrors, listed, policy)
    return decided


def _copies(side: Side, files: list[AttachmentView],
            rows: dict[tuple[Side, str], AttachmentMirror],
            policy: AttachmentPolicy) -> list[Intent]:
    if not (policy.to_zoho if side == "jira" else policy.to_jira):
        return []
    decided: list[Intent] = []
    for file in files:
        if file.size <= policy.max_bytes:
            decided.append(CopyAttachment(origin=side, origin_id=file.id, name=file.name,
                                          size=file.size, sha256=file.sha256,
                                          reason=f"{side} attachment {file.name} copied"))
        elif (side, file.id) not in rows:  # reported once
            reason = (f"{side} attachment {file.name} not copied: {file.size} bytes is over "
                      f"the {policy.max_bytes}-byte limit")
            decided += [SkipAttachment(origin=side, origin_id=file.id, name=file.name,
                                       size=file.size, reason=reason),
                        Problem(field="attachments", reason=reason)]
    return decided


def _deletions(mirrors: Sequence[AttachmentMirror],
               listed: dict[Side, dict[str, AttachmentView]],
               policy: AttachmentPolicy) -> list[Intent]:
    decided: list[Intent] = []
    for row in mirrors:
        if row.origin_id in listed[row.origin]:
            continue
        if not row.mirror_id:  # a skipped file that is gone: nothing to keep apart
            decided.append(DeleteAttachmentCopy(
                origin=row.origin, origin_id=row.origin_id, mirror_id="",
                reason=f"skipped {row.origin} attachment {row.name} deleted"))
        elif policy.deletes:
            decided.append(DeleteAttachmentCopy(
                origin=row.origin, origin_id=row.origin_id, mirror_id=row.mirror_id,
                reason=f"{row.origin} attachment {row.name} deleted: copy deleted"))
    return decided


def _pairs(jira: list[AttachmentView], zoho: list[AttachmentView]
           ) -> list[tuple[AttachmentView, AttachmentView]]:
    pairs: list[tuple[AttachmentView, AttachmentView]] = []
    free = list(zoho)
    for jira_file in jira:
        match = next((z for z in free if same_file(jira_file, z)), None)
        if match is not None:
            free.remove(match)
            pairs.append((jira_file, match))
    return pairs


def _other(side: Side) -> Side:
    return "zoho" if side == "jira" else "jira"


def _age(file: AttachmentView) -> tuple[float, str]:
    return (file.created, file.id)


def _unique(files: Sequence[AttachmentView]) -> dict[str, AttachmentView]:
    """By id, oldest first; a file listed twice counts once."""
    return {f.id: f for f in sorted(files, key=_age)}
