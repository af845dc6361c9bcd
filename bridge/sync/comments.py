"""Which comments to copy, rewrite or delete between the two sides of one link.

Each comment is copied once to the other side and its copy follows the original's edits
and deletion. The mirror table (``CommentMirror`` rows) is what says a comment has a
copy, and which comments are copies: a copy is never copied back. Comments the bridge
wrote itself (by its Jira account, or carrying its visible origin line) are never copied.
Texts are markup (``adapters.jira.adf``): both sides are compared in that one form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import msgspec

from bridge.sync.intents import (
    CopyCommentToJira,
    CopyCommentToZoho,
    DeleteMirror,
    EditMirror,
    Intent,
    Side,
)
from bridge.sync.model import CommentMirror

JIRA_LABEL = "Jira comment"
# The opening words of what the bridge writes into Zoho on its own (link and unlink notes).
BRIDGE_NOTES = ("Linked to Jira issue ", "The linked Jira issue ")


class CommentView(msgspec.Struct, frozen=True, kw_only=True):
    """One comment (Jira) or note/comment (Zoho) as read just now."""

    id: str
    text: str  # markup
    author: str = ""
    created: float = 0.0  # epoch s, orders copies
    ours: bool = False  # written by the bridge's own account
    restricted: bool = False  # Jira visibility limited to a role or group


class CommentPolicy(msgspec.Struct, frozen=True, kw_only=True):
    to_zoho: bool = True
    to_jira: bool = True
    copy_restricted: bool = False
    zoho_label: str = "Zoho comment"  # how copies in Jira name their origin


def digest(text: str) -> str:
    return hashlib.blake2b(text.strip().encode(), digest_size=12).hexdigest()


def header(label: str, origin_id: str, author: str) -> str:
    """The visible origin line of a copy; ``marker`` finds it again."""
    return f"[{label} {origin_id} · {author or 'unknown'}]"


def marker(label: str, origin_id: str) -> str:
    return f"[{label} {origin_id} "


def decide_comments(mirrors: Sequence[CommentMirror], jira: Sequence[CommentView],
                    zoho: Sequence[CommentView], policy: CommentPolicy) -> list[Intent]:
    """Copies (oldest original first), then edits, then deletions of copies."""
    jira_now = _unique(jira)
    zoho_now = _unique(zoho)
    rows: dict[tuple[str, str], CommentMirror] = {(m.origin, m.origin_id): m for m in mirrors}
    copies: set[tuple[str, str]] = {(m.origin, m.mirror_id) for m in mirrors}
    decided = [*_follow("jira", jira_now, rows, copies, policy.to_zoho, policy),
               *_follow("zoho", zoho_now, rows, copies, policy.to_jira, policy)]
    return sorted(decided, key=_order(jira_now, zoho_now))


def _follow(side: Side, comments: dict[str, CommentView],
            rows: dict[tuple[str, str], CommentMirror], copies: set[tuple[str, str]],
            allowed: bool, policy: CommentPolicy) -> list[Intent]:
    other: Side = "zoho" if side == "jira" else "jira"
    decided: list[Intent] = []
    for comment in comments.values():
        row = rows.get((side, comment.id))
        if (other, comment.id) in copies or (row is None and _ours(side, comment)):
            continue
        hidden = comment.restricted and not policy.copy_restricted
        if row is None:
            if allowed and not hidden:
                decided.append(_copy(side, comment, policy))
        elif hidden:
            decided.append(DeleteMirror(origin=side, origin_id=comment.id,
                                        mirror_id=row.mirror_id,
                                        reason=f"{side} comment {comment.id} is restricted"))
        elif row.digest != digest(comment.text):
            decided.append(EditMirror(
                origin=side, origin_id=comment.id, mirror_id=row.mirror_id,
                header=header(_label(side, policy), comment.id, comment.author),
                text=comment.text, digest=digest(comment.text),
                reason=f"{side} comment {comment.id} edited"))
    for (origin, origin_id), row in rows.items():
        if origin == side and origin_id not in comments:
            decided.append(DeleteMirror(origin=side, origin_id=origin_id,
                                        mirror_id=row.mirror_id,
                                        reason=f"{side} comment {origin_id} deleted"))
    return decided


def _copy(side: Side, comment: CommentView, policy: CommentPolicy) -> Intent:
    line = header(_label(side, policy), comment.id, comment.author)
    reason = f"{side} comment {comment.id} copied"
    if side == "jira":
        return CopyCommentToZoho(origin_id=comment.id, header=line, text=comment.text,
                                 digest=digest(comment.text), reason=reason)
    return CopyCommentToJira(origin_id=comment.id, header=line, text=comment.text,
                             digest=digest(comment.text), reason=reason)


def _ours(side: Side, comment: CommentView) -> bool:
    """A comment the bridge wrote (its account, or its origin line / link note)."""
    text = comment.text.lstrip()
    if side == "jira":
        return comment.ours or text.startswith("[Zoho ")
    return comment.ours or text.startswith((f"[{JIRA_LABEL} ", *BRIDGE_NOTES))


def _label(side: Side, policy: CommentPolicy) -> str:
    return JIRA_LABEL if side == "jira" else policy.zoho_label


def _unique(comments: Sequence[CommentView]) -> dict[str, CommentView]:
    """By id, oldest first; a comment listed twice counts once."""
    return {c.id: c for c in sorted(comments, key=lambda c: (c.created, c.id))}


def _order(jira: dict[str, CommentView], zoho: dict[str, CommentView]
           ) -> Callable[[Intent], tuple[int, float, str]]:
    """Copies first (by the original's time), then edits, then deletions."""
    def key(intent: Intent) -> tuple[int, float, str]:
        match intent:
            case CopyCommentToZoho(origin_id=origin_id):
                return (0, jira[origin_id].created, origin_id)
            case CopyCommentToJira(origin_id=origin_id):
                return (0, zoho[origin_id].created, origin_id)
            case EditMirror(origin_id=origin_id):
                return (1, 0.0, origin_id)
            case _:
                return (2, 0.0, getattr(intent, "origin_id", ""))
    return key
