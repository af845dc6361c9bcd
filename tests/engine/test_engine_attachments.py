"""Attachments between Jira issues and Zoho CRM records (or Zoho Projects tasks, whose
files live in WorkDrive) through the engine: each file arrives once each way with the same
bytes, files over the cap are skipped and reported, deletions follow only when the SCI says
so, and a crash after an upload copies nothing twice."""

import hashlib
import io

import msgspec

from adapters.zoho.projects.views import RecordRef
from bridge.engine.engine import SciEngine
from bridge.sci import SciConfig
from bridge.store import Link, OutboxDraft, UnitOfWork
from bridge.sync import intents as wire
from bridge.sync import keys
from bridge.sync.intents import CopyAttachment
from tests.engine.conftest import World, sci
from tests.engine.test_engine_comments import ANN, projects_linked, projects_sci


def jira_attaches(world: World, key: str, name: str, content: bytes) -> str:
    state = world.jira_sim.state
    issue, author = state.issue(key), state.user(ANN)
    assert issue is not None and author is not None
    return state.add_attachment(issue, name, "application/octet-stream", content, author).id


async def crm_attaches(world: World, record: str, name: str, content: bytes) -> str:
    return await world.crm.upload_attachment("Cases", record, name,
                                             lambda: io.BytesIO(content), size=len(content))


def jira_files(world: World, key: str) -> dict[str, str]:
    issue = world.jira_sim.state.issue(key)
    assert issue is not None
    return {a.filename: hashlib.sha256(a.content).hexdigest() for a in issue.attachments}


def crm_files(world: World, record: str) -> dict[str, str]:
    return {a["File_Name"]: hashlib.sha256(a["content"]).hexdigest()
            for a in world.crm_sim.store.attachments.values()
            if a["Parent_Id"]["id"] == record}


async def linked(world: World, config: SciConfig) -> tuple[SciEngine, Link]:
    engine = world.build(config)
    assert await engine.start()
    (created,) = await world.crm.insert("Cases", [{"Subject": "Printer on fire",
                                                   "Status": "New"}])
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    return engine, await engine.link_manually(issue.key, str(created.id))


async def test_files_arrive_once_each_way_byte_identical(world: World) -> None:
    engine, link = await linked(world, sci(attachments=True))
    key, record = link.jira_issue_key, link.zoho_record_id
    jira_attaches(world, key, "spec.pdf", b"%PDF " + bytes(range(256)) * 300)
    await crm_attaches(world, record, "log.txt", b"line\n" * 1000)
    await engine.sync_link(link)
    await engine.sync_link(link)  # a repeated trigger copies nothing more
    assert jira_files(world, key) == crm_files(world, record)
    assert sorted(jira_files(world, key)) == ["log.txt", "spec.pdf"]
    mirrors = await world.store.attachment_mirrors(link.id)
    assert {(m.origin, m.name, m.sha256) for m in mirrors} == {
        ("jira", "spec.pdf", jira_files(world, key)["spec.pdf"]),
        ("zoho", "log.txt", jira_files(world, key)["log.txt"])}


async def test_a_file_over_the_cap_is_skipped_and_reported_on_the_link(world: World) -> None:
    engine, link = await linked(world, sci(attachments=True, attachment_max_bytes=1000))
    jira_attaches(world, link.jira_issue_key, "video.mp4", b"x" * 1001)
    await engine.sync_link(link)
    await engine.sync_link(link)
    assert crm_files(world, link.zoho_record_id) == {}
    skipped = [e.summary for e in await world.store.link_history(link.id)
               if "video.mp4 not copied" in e.summary]
    assert len(skipped) == 2  # the pass that found it and the recorded skip, once
    (row,) = await world.store.attachment_mirrors(link.id)
    assert (row.mirror_id, row.size) == ("", 1001)


async def test_deleting_the_original_keeps_the_copy_unless_the_sci_says_so(
        world: World) -> None:
    engine, link = await linked(world, sci(attachments=True))
    await crm_attaches(world, link.zoho_record_id, "a.txt", b"keep me")
    await crm_attaches(world, link.zoho_record_id, "b.txt", b"delete me")
    await engine.sync_link(link)
    (row_a, row_b) = sorted(await world.store.attachment_mirrors(link.id), key=lambda m: m.name)
    await world.crm.delete_attachment("Cases", link.zoho_record_id, row_a.origin_id)
    await engine.sync_link(link)
    assert sorted(jira_files(world, link.jira_issue_key)) == ["a.txt", "b.txt"]

    following = world.build(sci(attachments=True, attachment_deletes=True))
    assert await following.start()
    await world.crm.delete_attachment("Cases", link.zoho_record_id, row_b.origin_id)
    await following.sync_link(link)
    # the copy kept earlier goes too: its original is gone and deletes now follow
    assert sorted(jira_files(world, link.jira_issue_key)) == []
    assert await world.store.attachment_mirrors(link.id) == []


async def test_crash_after_the_upload_records_the_mirror_without_a_second_copy(
        world: World) -> None:
    """The file reached Zoho, then the process died before the mirror row was committed:
    the retry finds the upload by name and size instead of uploading it again."""
    _engine, link = await linked(world, sci(attachments=True))
    content = b"only once" * 100
    file_id = jira_attaches(world, link.jira_issue_key, "once.bin", content)
    copy = CopyAttachment(origin="jira", origin_id=file_id, name="once.bin", size=len(content))
    item = keys.link_item(link.id)
    await world.store.commit(UnitOfWork(sci_id="cases", outbox=[OutboxDraft(
        sci_id="cases", idempotency_key=keys.attachment_key("cases", link.id, "jira", file_id),
        operation="CopyAttachment", payload=wire.encode(copy), item=item)]))
    (entry,) = await world.store.outbox_items("cases", item)
    await world.store.outbox_started(entry.id)
    uploaded = await crm_attaches(world, link.zoho_record_id, "once.bin", content)

    restarted = world.build(sci(attachments=True))
    assert await restarted.retry_due() is None
    await restarted.sync_link(link)
    assert len(crm_files(world, link.zoho_record_id)) == 1
    assert len(world.crm_sim.store.attachments) == 1
    (mirror,) = await world.store.attachment_mirrors(link.id)
    assert (mirror.origin_id, mirror.mirror_id) == (file_id, uploaded)
    assert mirror.sha256 == hashlib.sha256(content).hexdigest()


async def test_the_poll_finds_a_file_attached_to_an_unchanged_record(world: World) -> None:
    engine, link = await linked(world, sci(attachments=True))
    await engine.poll()  # the new record has had its pass
    await crm_attaches(world, link.zoho_record_id, "seen.txt", b"by the poll")
    assert await engine.poll() == 1
    assert list(jira_files(world, link.jira_issue_key)) == ["seen.txt"]
    assert await engine.poll() == 0  # known now: no further passes


async def projects_files(world: World, ref: RecordRef) -> dict[str, str]:
    files: dict[str, str] = {}
    for attachment in await world.projects.attachments(ref):
        digest = hashlib.sha256()
        async for chunk in world.projects.download_attachment(attachment):
            digest.update(chunk)
        files[attachment.name] = digest.hexdigest()
    return files


async def test_projects_files_go_through_workdrive_once_each_way(world: World) -> None:
    config = projects_sci(attachments=True, attachment_deletes=True, zoho={
        "system": "projects", "module": "tasks", "portal_id": "p", "project_id": "q",
        "workdrive_folder": "wd-folder-1"})
    engine, link, ref = await projects_linked(world, config)
    key = link.jira_issue_key
    jira_attaches(world, key, "trace.log", b"frame\n" * 5000)
    content = bytes(range(256)) * 40
    await world.projects.upload_attachment(ref, "screen.png", lambda: io.BytesIO(content),
                                           size=len(content), folder_id="wd-folder-1")
    await engine.sync_link(link)
    await engine.poll()  # the copy attached in Projects modified the task: a pass, no copy
    assert jira_files(world, key) == await projects_files(world, ref)
    assert sorted(jira_files(world, key)) == ["screen.png", "trace.log"]

    original = next(m for m in await world.store.attachment_mirrors(link.id)
                    if m.name == "trace.log")
    await world.jira.delete_attachment(original.origin_id)
    await engine.sync_link(link)
    assert sorted(await projects_files(world, ref)) == ["screen.png"]
    assert [m.name for m in await world.store.attachment_mirrors(link.id)] == ["screen.png"]


async def deliver(world: World, delivery: str, body: dict) -> None:
    await world.store.inbox_append("jira", delivery, msgspec.json.encode(body), ["cases"])


async def test_an_attachment_event_finds_its_issue_from_the_file(world: World,
                                                                 monkeypatch) -> None:
    """Attachment events name no issue: the engine finds the issue holding the file, and
    skips the search when the file's mirror row already says where it is."""
    engine, link = await linked(world, sci(attachments=True))
    jira_attaches(world, link.jira_issue_key, "found.txt", b"from the event")
    issue = await world.jira.get_issue(link.jira_issue_key, fields=["attachment"])
    (listed,) = issue.fields["attachment"]
    metadata = {**listed, "id": int(listed["id"])}  # the event's metadata has numeric ids
    await deliver(world, "a1", {"webhookEvent": "attachment_created", "attachment": metadata})
    await engine.process_inbox()
    assert list(crm_files(world, link.zoho_record_id)) == ["found.txt"]

    searches: list[str] = []
    real = engine.sides[0].attachment_holder

    async def counted(attachment_id: str, created: float) -> str | None:
        searches.append(attachment_id)
        return await real(attachment_id, created)

    monkeypatch.setattr(engine.sides[0], "attachment_holder", counted)
    await deliver(world, "a2", {"webhookEvent": "attachment_created", "attachment": metadata})
    await deliver(world, "a3", {"webhookEvent": "attachment_created",
                                "attachment": {"id": 999999, "filename": "elsewhere.txt"}})
    await engine.process_inbox()
    assert searches == ["999999"]  # the mirrored file needed no search
    assert await world.store.inbox_pending("cases") == []
    assert list(crm_files(world, link.zoho_record_id)) == ["found.txt"]
