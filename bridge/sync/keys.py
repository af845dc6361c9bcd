"""The one place idempotency keys and item ids are built."""

from __future__ import annotations


def link_item(link_id: str) -> str:
    return f"link:{link_id}"


def record_item(record_id: str) -> str:
    return f"zoho:{record_id}"


PERMANENT_MARK = ":create:"  # keys holding this are never pruned


def create_key(sci_id: str, record_id: str) -> str:
    """At most one auto-created issue per record and SCI, for ever."""
    return f"{sci_id}{PERMANENT_MARK}{record_id}"


def link_note_key(sci_id: str, link_id: str) -> str:
    return f"{sci_id}:note:{link_id}"


def remote_link_key(sci_id: str, link_id: str) -> str:
    return f"{sci_id}:remotelink:{link_id}"


def panel_link_key(sci_id: str, link_id: str) -> str:
    return f"{sci_id}:panellink:{link_id}"


def write_key(sci_id: str, item: str, pass_id: int, index: int) -> str:
    """Field writes are idempotent by nature; the key only keeps one pass's writes apart."""
    return f"{sci_id}:{item}:{pass_id}:{index}"


def issue_mark(sci_id: str, record_id: str) -> dict[str, str]:
    """The issue property value that marks an issue as auto-created for a record."""
    return {"sci": sci_id, "record": record_id}


ISSUE_PROPERTY = "zoho-bridge"


def comment_copy_key(sci_id: str, link_id: str, origin: str, origin_id: str) -> str:
    """At most one copy of a comment per link, for ever."""
    return f"{sci_id}:comment:{link_id}:{origin}:{origin_id}"


def comment_delete_key(sci_id: str, link_id: str, origin: str, origin_id: str) -> str:
    return f"{sci_id}:comment-delete:{link_id}:{origin}:{origin_id}"


def attachment_key(sci_id: str, link_id: str, origin: str, origin_id: str) -> str:
    """At most one copy (or pairing, or skip) of a file per link, for ever."""
    return f"{sci_id}:attachment:{link_id}:{origin}:{origin_id}"


def attachment_delete_key(sci_id: str, link_id: str, origin: str, origin_id: str) -> str:
    return f"{sci_id}:attachment-delete:{link_id}:{origin}:{origin_id}"
