"""Attachments through the real daemon with Zoho CRM and Zoho Projects: a file crosses each
way once and byte-identical, a 9.9 MB file passes without the daemon holding it in memory,
and a file over the cap is skipped and reported."""

import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

import anyio

from adapters.zoho.projects.views import RecordRef
from tests.e2e.conftest import DaemonProcess, Remote
from tests.e2e.test_comments import linked_case
from tests.e2e.test_sync import crm_sci, issue_for, projects_sci, until

MB = 1024 * 1024


def peak_rss_kb(bridge: DaemonProcess) -> int:
    """The daemon's highest resident set size so far (VmHWM)."""
    assert bridge.proc is not None
    status = Path(f"/proc/{bridge.proc.pid}/status").read_text()
    line = next(row for row in status.splitlines() if row.startswith("VmHWM:"))
    return int(line.split()[1])


async def upload_to_jira(remote: Remote, key: str, name: str, content: bytes) -> None:
    await remote.jira.upload_attachment(key, name, lambda: io.BytesIO(content),
                                        size=len(content), cap=20 * MB)


async def crm_file(remote: Remote, record: str, name: str) -> bytes | None:
    for file in await remote.crm.attachments("Cases", record):
        if file.File_Name == name:
            chunks = remote.crm.download_attachment("Cases", record, file, cap=20 * MB)
            return b"".join([chunk async for chunk in chunks])
    return None


async def jira_file(remote: Remote, key: str, name: str) -> bytes | None:
    issue = await remote.jira.get_issue(key, fields=["attachment"])
    for file in issue.fields.get("attachment") or []:
        if file["filename"] == name:
            chunks = remote.jira.download_attachment(str(file["id"]), cap=20 * MB)
            return b"".join([chunk async for chunk in chunks])
    return None


async def test_files_cross_each_way_once_and_byte_identical(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci(attachments="true"))
    issue, record = await linked_case(remote, "Files both ways")

    large = os.urandom(int(9.9 * MB))
    peak_before = peak_rss_kb(bridge)
    await upload_to_jira(remote, issue.key, "capture.bin", large)
    copied = await until(lambda: crm_file(remote, record, "capture.bin"), timeout=60)
    assert hashlib.sha256(copied).digest() == hashlib.sha256(large).digest()
    growth_mb = (peak_rss_kb(bridge) - peak_before) / 1024
    assert growth_mb < 4, f"the daemon's peak memory grew {growth_mb:.1f} MB for 9.9 MB"

    small = b"quote from the customer\n" * 100
    await remote.crm.upload_attachment("Cases", record, "quote.txt",
                                       lambda: io.BytesIO(small), size=len(small))
    assert await until(lambda: jira_file(remote, issue.key, "quote.txt"),
                       timeout=60) == small

    await anyio.sleep(3)  # passes keep running: nothing is copied twice or back
    crm_names = [f.File_Name for f in await remote.crm.attachments("Cases", record)]
    issue_now = await remote.jira.get_issue(issue.key, fields=["attachment"])
    jira_names = [f["filename"] for f in issue_now.fields.get("attachment") or []]
    assert sorted(crm_names) == ["capture.bin", "quote.txt"]
    assert sorted(jira_names) == ["capture.bin", "quote.txt"]


async def test_a_file_over_the_cap_is_skipped_and_reported(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci(attachments="true", attachment_max_bytes=str(MB)))
    issue, record = await linked_case(remote, "Too large")
    await upload_to_jira(remote, issue.key, "video.bin", os.urandom(MB + 1))

    async def reported() -> list[str]:
        return [s for s in bridge.history() if "video.bin not copied" in s]
    summaries = await until(reported, timeout=30)
    assert all("over the 1048576-byte limit" in s for s in summaries)
    await anyio.sleep(3)  # later polls and passes do not report it again
    assert await reported() == summaries
    assert await crm_file(remote, record, "video.bin") is None


async def projects_file(remote: Remote, ref: RecordRef, name: str) -> bytes | None:
    for file in await remote.projects.attachments(ref):
        if file.name == name:
            chunks = remote.projects.download_attachment(file, cap=20 * MB)
            return b"".join([chunk async for chunk in chunks])
    return None


async def test_projects_files_cross_each_way_through_workdrive(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    where = remote.project
    daemon(projects_sci(where.project_id, where.portal_id, attachments="true"))
    task = await remote.projects.create(where, "tasks", {"name": "Files via WorkDrive"})
    ref = RecordRef(where.portal_id, where.project_id, "tasks", task.id)
    issue = await until(lambda: issue_for(remote, "Files via WorkDrive"))

    design = os.urandom(3 * MB)
    await upload_to_jira(remote, issue.key, "design.pdf", design)
    # Zoho Projects allows 100 requests per URL pattern in 2 minutes: look once a second.
    assert await until(lambda: projects_file(remote, ref, "design.pdf"), timeout=60,
                       interval=1) == design

    log = b"adb logcat\n" * 2000
    await remote.projects.upload_attachment(ref, "logcat.txt", lambda: io.BytesIO(log),
                                            size=len(log), folder_id="wd-mobile-docs")
    assert await until(lambda: jira_file(remote, issue.key, "logcat.txt"), timeout=60) == log

    await anyio.sleep(3)  # polls keep listing both sides: nothing is copied twice or back
    issue_now = await remote.jira.get_issue(issue.key, fields=["attachment"])
    assert sorted(f["filename"] for f in issue_now.fields.get("attachment") or []) == [
        "design.pdf", "logcat.txt"]
    assert sorted(f.name for f in await remote.projects.attachments(ref)) == [
        "design.pdf", "logcat.txt"]
