"""Comments ⇄ Zoho CRM notes and Zoho Projects comments through the engine: each comment
arrives once each way, edits and deletions follow, and no copy ever comes back."""

from typing import Any

import anyio
import msgspec

from adapters.jira import adf
from adapters.jira.simulator.state import Comment
from adapters.zoho.projects.views import RecordRef
from bridge.engine.engine import SciEngine
from bridge.sci import SciConfig
from bridge.store import Link, OutboxDraft, SciRecord, UnitOfWork
from bridge.sync import intents as wire
from bridge.sync import keys
from bridge.sync.comments import digest, header
from bridge.sync.intents import CopyCommentToZoho
from tests.engine.conftest import World, sci

ANN = "5b10ac8d82e05b22cc7d4ef5"  # a person in the Jira simulator, not the bridge


def person_comments(world: World, key: str, text: str,
                    visibility: dict[str, str] | None = None) -> Comment:
    state = world.jira_sim.state
    issue = state.issue(key)
    author = state.user(ANN)
    assert issue is not None and author is not None
    comment = state.add_comment(issue, adf.to_adf(text), author)
    comment.visibility = visibility
    return comment


async def jira_comments(world: World, key: str) -> list[str]:
    return [c.text async for c in world.jira.comments(key)]


async def crm_notes(world: World, record: str) -> list[str]:
    return [str(n["Note_Content"]) for n in await world.crm.notes("Cases", record)
            if not str(n["Note_Content"]).startswith("Linked to Jira issue")]


async def crm_copies(world: World, record: str) -> list[str]:
    """The bodies of the Jira comments copied into the record's notes."""
    return body_of_copies(await crm_notes(world, record), "[Jira comment ")


async def jira_copies(world: World, key: str) -> list[str]:
    return body_of_copies(await jira_comments(world, key), "[Zoho ")


def body_of_copies(texts: list[str], prefix: str) -> list[str]:
    return [t.split("\n\n", 1)[1] for t in texts if t.startswith(prefix)]


async def crm_linked(world: World, config: SciConfig) -> tuple[SciEngine, Link]:
    engine = world.build(config)
    assert await engine.start()
    (created,) = await world.crm.insert("Cases", [{"Subject": "Printer on fire",
                                                   "Status": "New"}])
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    return engine, await engine.link_manually(issue.key, str(created.id))


async def test_crm_comments_and_notes_mirror_once_each_way(world: World) -> None:
    engine, link = await crm_linked(world, sci(comments=True))
    key, record = link.jira_issue_key, link.zoho_record_id
    assert await jira_comments(world, key) == []  # the link note is the bridge's own

    jira_comment = person_comments(world, key, "The **printer** is on fire\n\n- tray 1\n- tray 2")
    note_id = await world.crm.add_note("Cases", record, "Customer called *twice*")
    await engine.sync_link(link)
    await engine.sync_link(link)  # a repeated trigger copies nothing more
    assert await crm_notes(world, record) == [
        "Customer called *twice*",
        "[Jira comment " + jira_comment.id + " · Ann Agent]\n\n"
        "The **printer** is on fire\n\n- tray 1\n- tray 2"]
    (original, copy) = await jira_comments(world, key)
    assert original == "The **printer** is on fire\n\n- tray 1\n- tray 2"
    assert copy.startswith(f"[Zoho CRM note {note_id} · ")
    assert copy.endswith("]\n\nCustomer called *twice*")
    assert len(await world.store.comment_mirrors(link.id)) == 2

    # Edits follow the original, in both directions.
    await world.jira.edit_comment(key, jira_comment.id, adf.to_adf("Fire is out"))
    await world.crm.update_note(note_id, "Customer called three times")
    await engine.sync_link(link)
    assert await crm_copies(world, record) == ["Fire is out"]
    assert await jira_copies(world, key) == ["Customer called three times"]

    # Deletions follow the original; nothing is left over and nothing comes back.
    await world.jira.delete_comment(key, jira_comment.id)
    await world.crm.delete_note(note_id)
    await engine.sync_link(link)
    await engine.sync_link(link)
    assert await crm_notes(world, record) == []
    assert await jira_comments(world, key) == []
    assert await world.store.comment_mirrors(link.id) == []


async def test_restricted_jira_comments_are_not_copied(world: World) -> None:
    engine, link = await crm_linked(world, sci(comments=True))
    person_comments(world, link.jira_issue_key, "internal only",
                    visibility={"type": "role", "value": "Administrators"})
    person_comments(world, link.jira_issue_key, "for everyone")
    await engine.sync_link(link)
    assert await crm_copies(world, link.zoho_record_id) == [
        "for everyone"]
    sharing = world.build(sci(comments=True, comments_restricted=True))
    assert await sharing.start()
    await sharing.sync_link(link)
    assert sorted(await crm_copies(world, link.zoho_record_id)) == [
        "for everyone", "internal only"]


async def test_comments_stay_put_when_the_switch_is_off(world: World) -> None:
    engine, link = await crm_linked(world, sci())
    person_comments(world, link.jira_issue_key, "hello")
    await world.crm.add_note("Cases", link.zoho_record_id, "hi")
    await engine.sync_link(link)
    assert await crm_notes(world, link.zoho_record_id) == ["hi"]
    assert await jira_comments(world, link.jira_issue_key) == ["hello"]


async def test_a_comment_arriving_inside_issue_updated_is_not_missed(world: World) -> None:
    engine, link = await crm_linked(world, sci(comments=True))
    comment = person_comments(world, link.jira_issue_key, "noticed with a field edit")
    await world.store.inbox_append("jira", "d1", msgspec.json.encode({
        "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_commented",
        "issue": {"id": link.jira_issue_id, "key": link.jira_issue_key},
        "comment": {"id": comment.id}}), ["cases"])
    await engine.process_inbox()
    assert await crm_copies(world, link.zoho_record_id) == [
        "noticed with a field edit"]


async def test_crash_after_the_remote_copy_records_the_mirror_without_a_second_copy(
        world: World) -> None:
    """The note reached Zoho, then the process died before the mirror row was committed:
    the retry finds the note by its origin line instead of writing a second one."""
    engine, link = await crm_linked(world, sci(comments=True))
    comment = person_comments(world, link.jira_issue_key, "only once")
    line = header("Jira comment", comment.id, "Ann Agent")
    copy = CopyCommentToZoho(origin_id=comment.id, header=line, text="only once",
                             digest=digest("only once"))
    item = keys.link_item(link.id)
    await world.store.commit(UnitOfWork(sci_id="cases", outbox=[OutboxDraft(
        sci_id="cases", idempotency_key=keys.comment_copy_key("cases", link.id, "jira",
                                                              comment.id),
        operation="CopyCommentToZoho", payload=wire.encode(copy), item=item)]))
    (entry,) = await world.store.outbox_items("cases", item)
    await world.store.outbox_started(entry.id)
    note_id = await engine.sides[1].add_comment(link.zoho_record_id, line, "only once")

    restarted = world.build(sci(comments=True))
    assert await restarted.retry_due() is None
    await restarted.sync_link(link)
    assert len(await crm_notes(world, link.zoho_record_id)) == 1
    (mirror,) = await world.store.comment_mirrors(link.id)
    assert (mirror.origin_id, mirror.mirror_id) == (comment.id, note_id)


def projects_sci(**overrides: Any) -> SciConfig:
    return msgspec.convert({
        "id": "mobile", "name": "Mobile tasks", "mode": "two_way", "jira_projects": ["ENG"],
        "jira_issue_type": "Task", "mappings": [{"jira": "summary", "zoho": "name"}],
        "zoho": {"system": "projects", "module": "tasks", "portal_id": "p",
                 "project_id": "q"}, **overrides}, SciConfig)


async def projects_linked(world: World, config: SciConfig
                          ) -> tuple[SciEngine, Link, RecordRef]:
    """A Projects SCI's engine and a task linked to a new ENG issue."""
    await world.store.put_sci(SciRecord(id="mobile", name="Mobile tasks", kind="projects",
                                        definition=msgspec.json.encode(config)))
    engine = world.build(config)
    assert await engine.start()
    task = await world.projects.create(world.project, "tasks", {"name": "Crash on start"})
    issue = await world.jira.create_issue({"project": {"key": "ENG"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    link = await engine.link_manually(issue.key, task.id)
    ref = RecordRef(world.project.portal_id, world.project.project_id, "tasks", task.id)
    return engine, link, ref


async def test_projects_comments_mirror_once_each_way(world: World) -> None:
    engine, link, ref = await projects_linked(world, projects_sci(comments=True))
    key = link.jira_issue_key

    async def zoho_texts() -> list[str]:
        return [adf.to_text(adf.from_html(c.comment))
                for c in await world.projects.comments(ref)
                if not c.comment.startswith("Linked to Jira issue")]

    jira_comment = person_comments(world, key, "See `log.txt` and [the docs](https://d.test)")
    zoho_comment = await world.projects.add_comment(ref, "<p>Reproduced on <b>Android</b></p>")
    await engine.sync_link(link)
    await engine.sync_link(link)
    assert await zoho_texts() == [
        "Reproduced on **Android**",
        f"[Jira comment {jira_comment.id} · Ann Agent]\n\n"
        "See `log.txt` and [the docs](https://d.test)"]
    assert await jira_copies(world, key) == ["Reproduced on **Android**"]
    assert (await jira_comments(world, key))[1].startswith(
        f"[Zoho Projects comment {zoho_comment.id} ")

    await world.jira.edit_comment(key, jira_comment.id, adf.to_adf("Fixed in 2.1"))
    await world.projects.update_comment(ref, zoho_comment.id, "<p>Also on iOS</p>")
    await engine.sync_link(link)
    assert (await zoho_texts())[1].endswith("\n\nFixed in 2.1")
    assert await jira_copies(world, key) == ["Also on iOS"]

    await world.jira.delete_comment(key, jira_comment.id)
    await world.projects.delete_comment(ref, zoho_comment.id)
    await engine.sync_link(link)
    await engine.sync_link(link)
    assert await zoho_texts() == []
    assert await jira_comments(world, key) == []


async def test_the_poll_finds_a_new_note_on_an_unchanged_record(world: World) -> None:
    engine, link = await crm_linked(world, sci(comments=True))
    await engine.poll()  # the new record has had its pass
    await world.crm.add_note("Cases", link.zoho_record_id, "seen by the poll")
    assert await engine.poll() == 1
    assert await jira_copies(world, link.jira_issue_key) == ["seen by the poll"]


async def test_a_deleted_note_named_by_a_change_notice_takes_its_copy_along(
        world: World) -> None:
    """Deleting a note changes no field of its record: the poll cannot see it, the change
    notice that names the record can."""
    engine, link = await crm_linked(world, sci(comments=True))
    note = await world.crm.add_note("Cases", link.zoho_record_id, "call back on Monday")
    await engine.poll()
    assert await jira_copies(world, link.jira_issue_key) == ["call back on Monday"]
    await anyio.sleep(1.1)  # Zoho keeps whole seconds: past the polls' overlap
    await engine.poll()
    await world.crm.delete_note(note)
    await engine.poll()
    assert await jira_copies(world, link.jira_issue_key) == ["call back on Monday"]
    assert await engine.sync_records([link.zoho_record_id, "5725767000000999999"]) == 1
    assert await jira_copies(world, link.jira_issue_key) == []
    plain = world.build(sci(comments=False))
    assert await plain.sync_records([link.zoho_record_id]) == 0  # nothing a poll misses
