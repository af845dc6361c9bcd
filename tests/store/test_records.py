import msgspec
import pytest

from bridge.daemon import managed_scis
from bridge.sci import SciConfig
from bridge.store import (
    Connection,
    LinkConflict,
    SciRecord,
    SqliteStore,
    SyncEntry,
    UnitOfWork,
)
from bridge.store.base import SCI_DELETED
from bridge.sync.model import CommentMirror


async def test_connections_state_listing_and_cleared_secrets(store: SqliteStore) -> None:
    await store.put_connection(Connection(name="jira", kind="jira", secrets={"api_token": "t"}))
    await store.put_connection(Connection(name="crm", kind="zoho_crm", settings={"dc": "us"}))
    await store.set_connection_state("jira", "auth_required", "token revoked")
    await store.clear_connection_secrets("jira")
    jira = await store.get_connection("jira")
    assert jira is not None
    assert (jira.kind, jira.state, jira.state_message, jira.secrets) == (
        "jira", "auth_required", "token revoked", {})
    assert jira.updated_at > 0
    assert [c.name for c in await store.list_connections()] == ["crm", "jira"]
    await store.put_connection(Connection(name="crm", kind="zoho_crm", settings={"dc": "eu"}))
    crm = await store.get_connection("crm")
    assert crm is not None and crm.settings == {"dc": "eu"}
    assert await store.get_connection("missing") is None


async def test_sci_upsert_keeps_runtime_status(store: SqliteStore) -> None:
    await store.set_sci_status("s1", "failed", "crashed 6 times")
    await store.put_sci(SciRecord(id="s1", name="Renamed", kind="crm", definition=b'{"v":2}',
                                  enabled=False))
    sci = await store.get_sci("s1")
    assert sci is not None
    assert (sci.name, sci.definition, sci.enabled) == ("Renamed", b'{"v":2}', False)
    assert (sci.status, sci.status_reason) == ("failed", "crashed 6 times")
    await store.put_sci(SciRecord(id="s0", name="S0", kind="projects", definition=b"{}"))
    assert [s.id for s in await store.list_scis()] == ["s0", "s1"]
    assert await store.get_sci("missing") is None


async def test_links_are_unique_per_side(store: SqliteStore) -> None:
    link = await store.create_link("s1", "10001", "SUP-1", "z-1", "manual")
    assert await store.get_link(link.id) == link
    with pytest.raises(LinkConflict, match=f"SUP-1 ↔ z-1 in SCI s1 \\(link {link.id}\\)") as hit:
        await store.create_link("s1", "10001", "SUP-1", "z-2", "manual")
    assert hit.value.existing == link
    with pytest.raises(LinkConflict):
        await store.create_link("s1", "10002", "SUP-2", "z-1", "auto")
    assert await store.find_link("s1", zoho_record_id="z-1") == link
    assert await store.find_link("s1", jira_issue_id="10001") == link
    assert await store.find_link("s1", jira_issue_id="10002") is None
    with pytest.raises(ValueError, match="exactly one"):
        await store.find_link("s1", jira_issue_id="10001", zoho_record_id="z-1")
    other = await store.create_link("s1", "10002", "SUP-2", "z-2", "auto")
    assert [x.id for x in await store.list_links("s1")] == [link.id, other.id]


async def test_synced_state_follows_its_link(store: SqliteStore) -> None:
    link = await store.create_link("s1", "10001", "SUP-1", "z-1", "manual")
    assert await store.get_synced_state(link.id) is None
    await store.put_synced_state(link.id, b'{"summary":"a"}')
    await store.put_synced_state(link.id, b'{"summary":"b"}')
    assert await store.get_synced_state(link.id) == b'{"summary":"b"}'
    await store.delete_link(link.id)
    assert await store.get_link(link.id) is None
    assert await store.get_synced_state(link.id) is None


async def test_deleting_an_sci_removes_its_links(store: SqliteStore) -> None:
    link = await store.create_link("s1", "10001", "SUP-1", "z-1", "manual")
    await store.put_synced_state(link.id, b"{}")
    await store.delete_sci("s1")
    assert await store.list_scis() == []
    assert await store.list_links("s1") == []
    assert await store.get_synced_state(link.id) is None


async def test_cursors(store: SqliteStore) -> None:
    assert await store.get_cursor("s1", "zoho") is None
    await store.put_cursor("s1", "zoho", "2026-01-01T00:00:00Z")
    await store.put_cursor("s1", "zoho", "2026-01-02T00:00:00Z")
    await store.put_cursor("s1", "jira", "j-7")
    assert await store.get_cursor("s1", "zoho") == "2026-01-02T00:00:00Z"
    assert await store.get_cursor("s1", "jira") == "j-7"


async def test_sync_history_newest_first(store: SqliteStore) -> None:
    assert await store.last_sync("s1") is None
    for n in range(3):
        await store.record_sync(SyncEntry(sci_id="s1", direction="zoho_to_jira", started_at=n,
                                          finished_at=n + 1, changes=n, errors=0, summary=f"#{n}"))
    await store.record_sync(SyncEntry(sci_id="s2", direction="poll", started_at=9,
                                      finished_at=9, changes=0, errors=1, summary="other"))
    last = await store.last_sync("s1")
    assert last == SyncEntry(sci_id="s1", direction="zoho_to_jira", started_at=2,
                             finished_at=3, changes=2, errors=0, summary="#2")
    assert [e.summary for e in await store.recent_syncs("s1", limit=2)] == ["#2", "#1"]
    assert [e.summary for e in await store.recent_syncs("s1")] == ["#2", "#1", "#0"]


async def test_comment_mirrors_commit_with_their_write_and_go_with_their_link(
        store: SqliteStore) -> None:
    link = await store.create_link("s1", "10001", "SUP-1", "z-1", "manual")
    first = CommentMirror(link_id=link.id, origin="jira", origin_id="c1", mirror_id="n1",
                          digest="d1")
    second = CommentMirror(link_id=link.id, origin="zoho", origin_id="n2", mirror_id="c2",
                           digest="d2")
    await store.commit(UnitOfWork(sci_id="s1", mirrors=[first, second]))
    edited = msgspec.structs.replace(first, digest="d3")
    await store.commit(UnitOfWork(sci_id="s1", mirrors=[edited], unmirrored=[second]))
    assert await store.comment_mirrors(link.id) == [edited]
    await store.delete_link(link.id)
    assert await store.comment_mirrors(link.id) == []


async def test_the_daemon_runs_the_ui_scis_it_can_read(store: SqliteStore) -> None:
    """Those made in the UI, not deleted, and readable; config SCIs come from the file."""
    good = msgspec.convert({"id": "made", "name": "Made", "mode": "display",
                            "jira_projects": ["SUP"],
                            "zoho": {"system": "crm", "module": "Deals"}}, SciConfig)
    rows = [SciRecord(id="made", name="Made", kind="crm", origin="ui",
                      definition=msgspec.json.encode(good)),
            SciRecord(id="gone", name="Gone", kind="crm", origin="ui",
                      definition=msgspec.json.encode(good)),
            SciRecord(id="broken", name="Broken", kind="crm", origin="ui",
                      definition=b'{"id": "broken"}'),
            SciRecord(id="declared", name="Declared", kind="crm",
                      definition=msgspec.json.encode(good))]
    for row in rows:
        await store.put_sci(row)
    await store.set_sci_status("gone", SCI_DELETED, "deleted, links kept")
    assert (await store.get_sci("made")).origin == "ui"  # type: ignore[union-attr]
    assert await managed_scis(store) == {"made": good}
