"""The engine against the Jira and Zoho CRM simulators: auto-create, both directions,
rules, echoes, conflicts, unconvertible values and dead letters."""

import anyio
import msgspec

from bridge.engine import engine as engine_module
from bridge.engine import state as link_state
from bridge.engine.channels import ChannelRegistry
from bridge.engine.engine import Notifications
from bridge.store import OutboxDraft, UnitOfWork
from bridge.sync import intents as wire
from bridge.sync import keys
from bridge.sync.decide import decide_create
from tests.engine.conftest import World, sci


async def new_case(world: World, **fields: object) -> str:
    (result,) = await world.crm.insert("Cases", [{"Subject": "Printer on fire",
                                                  "Status": "New", **fields}])
    assert result.ok, result
    return str(result.id)


async def issue_fields(world: World, key: str) -> dict:
    return (await world.jira.get_issue(key)).fields


async def test_new_record_creates_one_issue_with_link_note_and_remote_link(world: World) -> None:
    engine = world.build(sci(auto_create=True))
    assert await engine.start()
    record = await new_case(world, Description="Smoke everywhere")
    assert await engine.poll() == 1
    assert await world.store.list_links("cases") == []  # queued: the outbox's turn creates
    assert await engine.retry_due() is None
    (link,) = await world.store.list_links("cases")
    assert link.origin == "auto" and link.zoho_record_id == record
    fields = await issue_fields(world, link.jira_issue_key)
    assert fields["summary"] == "Printer on fire"
    notes = await world.crm.notes("Cases", record)
    assert any(f"Jira issue {link.jira_issue_key} " in n["Note_Content"] for n in notes)
    remote = await world.jira.remote_links(link.jira_issue_key)
    assert [r.object["url"] for r in remote] == [engine.sides[1].record_url(record)]
    # A second poll (and a repeated trigger) creates nothing more.
    await engine.poll()
    await engine.retry_due()
    await engine.sync_link(link)
    assert len(await world.store.list_links("cases")) == 1
    assert len([i async for i in world.jira.search("project = SUP AND summary ~ fire")]) == 1


async def test_crash_after_remote_create_adopts_the_marked_issue(world: World) -> None:
    """The create reached Jira, then the process died before the link was committed: the
    restarted engine finds the issue by its mark instead of creating a second one."""
    engine = world.build(sci(auto_create=True))
    await engine.start()
    record = await new_case(world)
    snapshot = await engine.sides[1].snapshot(record)
    assert snapshot is not None
    (create, *_) = decide_create(engine.policy, snapshot, engine.ctx, engine.catalog)
    item = keys.record_item(record)
    await world.store.commit(UnitOfWork(sci_id="cases", outbox=[OutboxDraft(
        sci_id="cases", idempotency_key=keys.create_key("cases", record),
        operation="CreateJiraIssue", payload=wire.encode(create), item=item)]))
    (entry,) = await world.store.outbox_items("cases", item)
    await world.store.outbox_started(entry.id)
    await engine.sides[0].create("cases", record, {"summary": "Printer on fire"})

    restarted = world.build(sci(auto_create=True))
    assert await restarted.retry_due() is None
    (link,) = await world.store.list_links("cases")
    assert link.zoho_record_id == record
    assert len([i async for i in world.jira.search("project = SUP AND summary ~ fire")]) == 1


async def test_fields_flow_both_ways_without_echo(world: World) -> None:
    engine = world.build()
    await engine.start()
    record = await new_case(world)
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    link = await engine.link_manually(issue.key, record)
    assert (await issue_fields(world, issue.key))["summary"] == "Printer on fire"
    await world.jira.edit_issue(issue.key, fields={"summary": "Printer fixed"})
    await engine.sync_link(link)
    assert (await world.crm.record("Cases", record))["Subject"] == "Printer fixed"
    # Our own writes come back as "no change": a further pass writes nothing.
    state = link_state.load(await world.store.get_synced_state(link.id))
    assert state.base is not None and state.base.fields["summary"] == "Printer fixed"
    before = len(await world.store.recent_syncs("cases", limit=100))
    await engine.sync_link(link)
    assert len(await world.store.recent_syncs("cases", limit=100)) == before


async def test_one_way_mode_never_writes_to_zoho(world: World) -> None:
    engine = world.build(sci(mode="one_way"))
    await engine.start()
    record = await new_case(world)
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    link = await engine.link_manually(issue.key, record)
    await world.jira.edit_issue(issue.key, fields={"summary": "edited in Jira"})
    await engine.sync_link(link)
    assert (await world.crm.record("Cases", record))["Subject"] == "Printer on fire"


async def test_conflict_is_recorded_and_policy_decides(world: World) -> None:
    engine = world.build(sci(conflict_policy="zoho_wins"))
    await engine.start()
    record = await new_case(world)
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    link = await engine.link_manually(issue.key, record)
    await world.jira.edit_issue(issue.key, fields={"summary": "Jira says"})
    await world.crm.update("Cases", [{"id": record, "Subject": "Zoho says"}])
    await engine.sync_link(link)
    assert (await issue_fields(world, issue.key))["summary"] == "Zoho says"
    history = [e.summary for e in await world.store.link_history(link.id)]
    assert any("changed on both sides; zoho wins" in h for h in history)


async def test_rule_sets_the_status_through_a_multi_step_path(world: World) -> None:
    rule = {"field": "Status", "operator": "equals", "value": "Closed",
            "status_when_met": "Done", "status_when_not_met": "To Do",
            "create_when_not_met": True}
    engine = world.build(sci(mode="one_way", rule=rule, auto_create=True))
    await engine.start()
    record = await new_case(world)
    await engine.poll()
    await engine.retry_due()
    (link,) = await world.store.list_links("cases")
    assert (await issue_fields(world, link.jira_issue_key))["status"]["name"] == "To Do"
    await world.crm.update("Cases", [{"id": record, "Status": "Closed"}])
    await engine.poll()
    assert (await issue_fields(world, link.jira_issue_key))["status"]["name"] == "Done"


async def test_rule_not_met_skips_creation_unless_asked(world: World) -> None:
    rule = {"field": "Status", "operator": "equals", "value": "Escalated",
            "status_when_met": "In Progress", "status_when_not_met": "To Do"}
    engine = world.build(sci(mode="one_way", rule=rule, auto_create=True))
    await engine.start()
    record = await new_case(world)
    await engine.poll()
    assert await engine.retry_due() is None
    assert await world.store.list_links("cases") == []
    await world.crm.update("Cases", [{"id": record, "Status": "Escalated"}])
    await engine.poll()
    await engine.retry_due()
    (link,) = await world.store.list_links("cases")
    assert (await issue_fields(world, link.jira_issue_key))["status"]["name"] == "In Progress"


async def test_unconvertible_value_is_reported_on_the_link(world: World) -> None:
    config = sci(mappings=[{"jira": "customfield_10011", "zoho": "Subject",
                            "type": "number"}])
    engine = world.build(config)
    await engine.start()
    record = await new_case(world)
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    link = await engine.link_manually(issue.key, record)
    state = link_state.load(await world.store.get_synced_state(link.id))
    assert any("is not a number" in p for p in state.problems)


async def test_refused_write_becomes_a_dead_letter_and_parks_only_that_link(
        world: World) -> None:
    engine = world.build(sci(mappings=[{"jira": "summary", "zoho": "Subject"},
                                       {"jira": "labels", "zoho": "No_Such_Field",
                                        "type": "multiselect"}]))
    await engine.start()
    record = await new_case(world)
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    link = await engine.link_manually(issue.key, record)
    await world.jira.edit_issue(issue.key, fields={"labels": ["NotAStatus"]})
    await engine.sync_link(link)
    dead = await world.store.list_dead_letters("cases")
    assert len(dead) == 1 and dead[0].item == keys.link_item(link.id)
    assert keys.link_item(link.id) in await world.store.parked_items("cases")


async def linked_pair(world: World, engine) -> tuple[str, str, object]:
    record = await new_case(world)
    issue = await world.jira.create_issue({"project": {"key": "SUP"},
                                           "issuetype": {"name": "Task"}, "summary": "x"})
    return record, issue.key, await engine.link_manually(issue.key, record)


async def test_record_deleted_in_zoho_unlinks_and_comments_on_the_issue(world: World) -> None:
    engine = world.build()
    await engine.start()
    record, key, _ = await linked_pair(world, engine)
    await world.crm.delete("Cases", [record])
    await engine.poll()
    assert await world.store.list_links("cases") == []
    comments = [c.text async for c in world.jira.comments(key)]
    assert any(f"Zoho record {record} was deleted" in c for c in comments)
    assert (await world.jira.get_issue(key)).key == key  # the issue itself stays


async def test_unreadable_issue_without_a_deletion_event_keeps_the_link(world: World) -> None:
    engine = world.build()
    await engine.start()
    _, key, link = await linked_pair(world, engine)
    await world.jira.delete_issue(key)  # looks the same as a lost permission: a 404
    await engine.sync_link(link)
    (kept,) = await world.store.list_links("cases")
    state = link_state.load(await world.store.get_synced_state(kept.id))
    assert any("deleted, or the account lost access" in p for p in state.problems)
    # The deletion event is the evidence that unlinks.
    await world.store.inbox_append("jira", "d1", msgspec.json.encode(
        {"webhookEvent": "jira:issue_deleted", "issue": {"id": kept.jira_issue_id,
                                                         "key": key}}), ["cases"])
    await engine.process_inbox()
    assert await world.store.list_links("cases") == []


async def test_zoho_edit_racing_our_write_is_not_overwritten(world: World) -> None:
    engine = world.build()
    await engine.start()
    record, key, link = await linked_pair(world, engine)
    await world.jira.edit_issue(key, fields={"summary": "from Jira"})
    jira = await engine.sides[0].snapshot(key)
    zoho = await engine.sides[1].snapshot(record)
    await anyio.sleep(1.1)  # Zoho keeps whole seconds: the racing edit must be later
    await world.crm.update("Cases", [{"id": record, "Subject": "from Zoho, meanwhile"}])
    await engine.sync_link(link, jira=jira, zoho=zoho)  # decided on the older read
    assert (await world.crm.record("Cases", record))["Subject"] == "from Zoho, meanwhile"
    await engine.retry_due()  # the refused write becomes a fresh pass
    fields = await issue_fields(world, key)
    assert fields["summary"] == "from Zoho, meanwhile"
    assert (await world.crm.record("Cases", record))["Subject"] == "from Zoho, meanwhile"


async def test_poll_opens_a_notification_channel_and_keeps_it(world: World) -> None:
    registry = ChannelRegistry()
    notify = Notifications("http://127.0.0.1:9/webhooks/zoho/crm", registry)
    engine = world.build(notifications=notify)
    await engine.poll()
    (watch,) = await world.crm.watches()
    assert watch["notify_url"] == notify.url
    assert watch["events"] == ["Cases.all"]
    assert registry.sci_for(str(watch["channel_id"]), watch["token"]) == "cases"
    assert registry.sci_for(str(watch["channel_id"]), "forged") is None
    await engine.poll()  # still fresh: not registered again
    assert len(await world.crm.watches()) == 1


async def test_a_poison_item_is_set_aside_and_the_others_go_on(world: World,
                                                               monkeypatch) -> None:
    engine = world.build()
    await engine.start()
    _, bad_key, bad = await linked_pair(world, engine)
    record, good_key, good = await linked_pair(world, engine)
    side = engine.sides[0]
    real = side.snapshot

    async def snapshot(issue: str):  # one issue's data breaks our reading of it
        if issue in (bad.jira_issue_id, bad_key):
            raise ValueError("unexpected shape in issue fields")
        return await real(issue)

    monkeypatch.setattr(side, "snapshot", snapshot)
    await world.jira.edit_issue(good_key, fields={"summary": "still syncing"})
    for n, link in enumerate((bad, good)):
        await world.store.inbox_append("jira", f"d{n}", msgspec.json.encode(
            {"webhookEvent": "jira:issue_updated",
             "issue": {"id": link.jira_issue_id, "key": link.jira_issue_key}}), ["cases"])
    await engine.process_inbox()  # no exception escapes: the actor is never crashed
    assert await world.store.inbox_pending("cases") == []
    assert (await world.crm.record("Cases", record))["Subject"] == "still syncing"
    history = [e.summary for e in await world.store.link_history(bad.id)]
    assert any("unexpected shape in issue fields" in h for h in history)


async def test_the_echo_of_our_own_write_costs_no_pass(world: World, monkeypatch) -> None:
    engine = world.build()
    await engine.start()
    record, key, link = await linked_pair(world, engine)
    await world.jira.edit_issue(key, fields={"summary": "edited in Jira"})
    await engine.sync_link(link)  # our write to Zoho changes the record's modified time
    assert (await world.crm.record("Cases", record))["Subject"] == "edited in Jira"
    side = engine.sides[0]
    reads: list[str] = []
    real = side.snapshot

    async def counted(issue: str):
        reads.append(issue)
        return await real(issue)

    monkeypatch.setattr(side, "snapshot", counted)
    await engine.poll()  # the poll lists the record we wrote: an echo, no Jira read
    assert reads == []
    await world.crm.update("Cases", [{"id": record, "Subject": "edited in Zoho"}])
    await engine.poll()  # a real change does get its pass
    assert reads and (await issue_fields(world, key))["summary"] == "edited in Zoho"


async def test_a_poll_queues_many_creates_in_a_few_transactions(world: World,
                                                               monkeypatch) -> None:
    """One transaction per batch of queued creates, not per record: the actor is held up
    for moments, not for one disk sync per record."""
    monkeypatch.setattr(engine_module, "QUEUE_BATCH", 2)
    engine = world.build(sci(auto_create=True, link_note=False))
    await engine.start()
    await world.crm.insert("Cases", [{"Subject": f"bulk {n}", "Status": "New"}
                                     for n in range(5)])
    commits: list[UnitOfWork] = []
    real = world.store.commit

    async def counted(work: UnitOfWork) -> None:
        commits.append(work)
        await real(work)

    monkeypatch.setattr(world.store, "commit", counted)
    assert await engine.poll() == 5
    assert [len(w.outbox) for w in commits] == [2, 2, 1]
    assert not any(w.cursors for w in commits[:-1])  # a cursor moves with the last only
    assert await world.store.outbox_depth("cases") == 5


async def test_a_backfill_is_queued_and_runs_in_turns_between_live_work(
        world: World, monkeypatch) -> None:
    """Many new records at once: the poll only queues their creates; each outbox turn is
    bounded, so the actor's mailbox (webhooks, notifications) comes in between."""
    monkeypatch.setattr(engine_module, "OUTBOX_SLICE", 0.0)  # one write per turn
    engine = world.build(sci(auto_create=True, link_note=False))
    await engine.start()
    records = [r.id for r in await world.crm.insert(
        "Cases", [{"Subject": f"case {n}", "Status": "New"} for n in range(3)])]
    assert await engine.poll() == 3
    assert await world.store.list_links("cases") == []
    turns = 0
    while await engine.retry_due() is not None:
        turns += 1
    assert turns == 3
    links = await world.store.list_links("cases")
    assert sorted(link.zoho_record_id for link in links) == sorted(map(str, records))
    await engine.poll()  # queued and done records are not queued again
    assert await engine.retry_due() is None
    marked = [i for i in world.jira_sim.state.issues.values()
              if keys.ISSUE_PROPERTY in i.properties]
    assert len(marked) == 3
