"""Units of work commit atomically; finished work is pruned after the retention period
while what guards exactly-once stays."""

import time

import pytest

from bridge.store import Link, LinkConflict, OutboxDraft, SqliteStore, SyncEntry, UnitOfWork


async def test_prune_removes_old_finished_work_but_keeps_permanent_keys(
        store: SqliteStore) -> None:
    for key in ("s:link:1:5:0", "s:create:42"):
        assert await store.outbox_put(OutboxDraft(sci_id="sup", idempotency_key=key,
                                                  operation="x", payload=b"{}"))
        (item,) = await store.outbox_due("sup", time.time() + 1)
        await store.outbox_done(item.id)
    done = await store.inbox_append("jira", "d1", b"{}", ["sup"])
    pending = await store.inbox_append("jira", "d2", b"{}", ["sup"])
    assert done is not None and pending is not None
    await store.commit(UnitOfWork(sci_id="sup", events=[(done, "done", "synced")]))
    await store.record_sync(SyncEntry(sci_id="sup", direction="poll", started_at=1.0,
                                      finished_at=1.0, changes=0, errors=0, summary="old"))

    removed = await store.prune(before=time.time() + 1, keep_keys_containing=":create:")

    assert removed == {"done_keys": 1, "inbox_events": 1, "sync_history": 1}
    # The permanent key still refuses a second create; the pending event is untouched.
    assert not await store.outbox_put(OutboxDraft(sci_id="sup", idempotency_key="s:create:42",
                                                  operation="x", payload=b"{}"))
    assert [i.event_id for i in await store.inbox_pending("sup")] == [pending]
    assert await store.recent_syncs("sup") == []


async def test_prune_keeps_what_is_newer_than_the_cutoff(store: SqliteStore) -> None:
    await store.record_sync(SyncEntry(sci_id="sup", direction="poll", started_at=time.time(),
                                      finished_at=time.time(), changes=0, errors=0,
                                      summary="fresh"))
    assert await store.prune(before=time.time() - 3600, keep_keys_containing=":create:") == \
        {"done_keys": 0, "inbox_events": 0, "sync_history": 0}
    assert len(await store.recent_syncs("sup")) == 1


async def test_a_unit_of_work_commits_whole_or_not_at_all(store: SqliteStore) -> None:
    """A pass's event closing, history and writes land together: never a closed event
    without its pass (or the reverse)."""
    first = await store.create_link("s1", "10001", "SUP-1", "z1", "manual")
    event = await store.inbox_append("jira", "d1", b"{}", ["s1"])
    assert event is not None
    clash = Link(id="other", sci_id="s1", jira_issue_id="10001", jira_issue_key="SUP-1",
                 zoho_record_id="z2", origin="auto", created_at=time.time())
    work = UnitOfWork(
        sci_id="s1", events=[(event, "done", "synced")], new_links=[clash],
        outbox=[OutboxDraft(sci_id="s1", idempotency_key="k1", operation="x", payload=b"{}")],
        history=[SyncEntry(sci_id="s1", direction="poll", started_at=1.0, finished_at=1.0,
                           changes=1, errors=0, summary="pass")])
    with pytest.raises(LinkConflict):
        await store.commit(work)
    assert [i.event_id for i in await store.inbox_pending("s1")] == [event]
    assert await store.outbox_depth("s1") == 0 and await store.recent_syncs("s1") == []
    assert await store.list_links("s1") == [first]
