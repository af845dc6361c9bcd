"""Comments through the real daemon: a burst on one Jira issue reaches the Zoho CRM record
once each and in order, also when the daemon is killed in the middle of it; edits and
deletions follow each way; Zoho Projects task comments are mirrored both ways and follow
their Jira originals' edits and deletions."""

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from adapters.jira import adf
from adapters.zoho.projects.views import RecordRef
from tests.e2e.conftest import DaemonProcess, Remote
from tests.e2e.test_sync import crm_sci, issue_for, projects_sci, until

ANN = "5b10ac8d82e05b22cc7d4ef5"  # a person in the Jira simulator, not the bridge
BURST = 50


async def linked_case(remote: Remote, subject: str) -> tuple[Any, str]:
    (created,) = await remote.crm.insert("Cases", [{"Subject": subject, "Status": "New"}])
    issue = await until(lambda: issue_for(remote, subject))
    return issue, str(created.id)


async def person_comments(remote: Remote, key: str, text: str) -> None:
    """Comment as a person would, waiting out Jira's per-issue write limit."""
    url = (f"{remote.info['jira']['base_url']}/_sim/rest/api/3/issue/{key}/comment"
           f"?accountId={ANN}")
    with anyio.fail_after(15):
        while True:
            async with remote.session.post(url, json={"body": adf.to_adf(text)}) as answer:
                if answer.status != 429:
                    assert answer.status == 201, await answer.text()
                    return
                await anyio.sleep(float(answer.headers.get("Retry-After", "1")))


async def copied_notes(remote: Remote, record: str) -> list[str]:
    """The bodies of the Jira comments copied into the record's notes, oldest first."""
    notes = await remote.crm.notes("Cases", record)
    ordered = sorted(notes, key=lambda n: (str(n["Created_Time"]), int(n["id"])))
    return [str(n["Note_Content"]).split("\n\n", 1)[1] for n in ordered
            if str(n["Note_Content"]).startswith("[Jira comment ")]


async def all_copied(remote: Remote, record: str) -> list[str]:
    copies = await copied_notes(remote, record)
    return copies if len(copies) >= BURST else []


async def test_burst_of_comments_arrives_once_each_in_order_and_notes_come_back(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    daemon(crm_sci(comments="true"))
    issue, record = await linked_case(remote, "Comment burst")
    for n in range(BURST):
        await person_comments(remote, issue.key, f"update {n:02d}")
    copies = await until(lambda: all_copied(remote, record), timeout=90)
    assert copies == [f"update {n:02d}" for n in range(BURST)]

    note = await remote.crm.add_note("Cases", record, "Called the customer")

    async def note_in_jira() -> list[str]:
        return [c.text async for c in remote.jira.comments(issue.key)
                if c.text.startswith(f"[Zoho CRM note {note} ")]
    (copy,) = await until(note_in_jira)
    assert copy.endswith("\n\nCalled the customer")
    await anyio.sleep(2)  # nothing more arrives once everything settled
    assert await copied_notes(remote, record) == copies
    texts = [c.text async for c in remote.jira.comments(issue.key)]
    assert len(texts) == BURST + 1  # no copy came back, the link note stayed in Zoho


async def test_edits_and_deletions_follow_each_way(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    daemon(crm_sci(comments="true"))
    issue, record = await linked_case(remote, "Comment edits")
    await person_comments(remote, issue.key, "The printer smokes")
    assert await until(lambda: copied_notes(remote, record)) == ["The printer smokes"]
    (original,) = [c async for c in remote.jira.comments(issue.key)]

    await remote.jira.edit_comment(issue.key, original.id, adf.to_adf("The printer burns"))
    await until(lambda: _equals(copied_notes(remote, record), ["The printer burns"]))
    await remote.jira.delete_comment(issue.key, original.id)
    await until(lambda: _equals(copied_notes(remote, record), []))

    note = await remote.crm.add_note("Cases", record, "Technician booked")

    async def copy_in_jira() -> list[str]:
        return [c.text.split("\n\n", 1)[1] async for c in remote.jira.comments(issue.key)
                if c.text.startswith(f"[Zoho CRM note {note} ")]
    assert await until(copy_in_jira) == ["Technician booked"]
    await remote.crm.update_note(note, "Technician booked for Monday")
    await until(lambda: _equals(copy_in_jira(), ["Technician booked for Monday"]))
    await remote.crm.delete_note(note)
    await until(lambda: _equals(copy_in_jira(), []))


async def _equals(found: Awaitable[list[str]], expected: list[str]) -> bool:
    return await found == expected


async def test_sigkill_during_a_comment_burst_copies_each_comment_once(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    bridge = daemon(crm_sci(comments="true"))
    issue, record = await linked_case(remote, "Comment crash")
    for n in range(BURST):
        await person_comments(remote, issue.key, f"step {n:02d}")

    async def some_copied() -> bool:
        return len(await copied_notes(remote, record)) >= 3
    await until(some_copied)
    bridge.kill()
    bridge.start()

    copies = await until(lambda: all_copied(remote, record), timeout=90)
    await anyio.sleep(2)
    assert copies == [f"step {n:02d}" for n in range(BURST)]
    assert await copied_notes(remote, record) == copies


async def test_projects_task_comments_mirror_both_ways(
        remote: Remote, daemon: Callable[..., DaemonProcess]) -> None:
    where = remote.project
    daemon(projects_sci(where.project_id, where.portal_id, comments="true"))
    task = await remote.projects.create(where, "tasks", {"name": "Comment both ways"})
    ref = RecordRef(where.portal_id, where.project_id, "tasks", task.id)
    issue = await until(lambda: issue_for(remote, "Comment both ways"))
    await person_comments(remote, issue.key, "Crash seen on **Android**")

    async def in_projects() -> list[str]:
        return [adf.to_text(adf.from_html(c.comment)) for c in await remote.projects.comments(ref)
                if c.comment.startswith("<p>[Jira comment ")]
    (copy,) = await until(in_projects)
    assert copy.endswith("]\n\nCrash seen on **Android**")

    # A Projects comment is seen on the task's next pass (here: the next Jira change).
    comment = await remote.projects.add_comment(ref, "<p>Fixed in <code>2.1</code></p>")
    await remote.jira.edit_issue(issue.key, fields={"summary": "Comment both ways, fixed"})

    async def in_jira() -> list[str]:
        return [c.text async for c in remote.jira.comments(issue.key)
                if c.text.startswith(f"[Zoho Projects comment {comment.id} ")]
    (back,) = await until(in_jira)
    assert back.endswith("]\n\nFixed in `2.1`")
    await anyio.sleep(2)
    assert len(await in_projects()) == 1
    assert len([c async for c in remote.jira.comments(issue.key)]) == 2

    (original,) = [c async for c in remote.jira.comments(issue.key)
                   if c.text == "Crash seen on **Android**"]
    await remote.jira.edit_comment(issue.key, original.id, adf.to_adf("Crash seen on iOS too"))
    await until(lambda: _equals_end(in_projects(), "]\n\nCrash seen on iOS too"))
    await remote.jira.delete_comment(issue.key, original.id)
    await until(lambda: _equals(in_projects(), []))


async def _equals_end(found: Awaitable[list[str]], ending: str) -> bool:
    texts = await found
    return len(texts) == 1 and texts[0].endswith(ending)
