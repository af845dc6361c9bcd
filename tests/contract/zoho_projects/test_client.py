"""Our Zoho Projects client against the simulator, over real loopback sockets."""

import io
from datetime import UTC, datetime, timedelta

import pytest

from adapters.http import Outcome
from adapters.zoho.projects import RecordRef, ZohoProjectsError
from bridge.sides.zoho_projects import ProjectsSide

from .conftest import AUTH, SimFactory, Zp


async def test_portals_projects_and_users(zp: Zp) -> None:
    (portal,) = await zp.client.portals()
    assert portal.id == zp.portal_id and len(portal.id) == 19
    projects = await zp.client.projects(portal.id)
    assert [p.name for p in projects] == ["Website Relaunch", "Mobile App"]
    project = await zp.client.project(zp.project("Mobile App"))
    assert project.prefix == "MOB1" and project.status and project.status.name == "Active"
    users = await zp.client.users(portal.id)
    assert [u.email for u in users][:2] == ["ada@example.com", "ben@example.com"]


async def test_paging_follows_has_next_page(zp: Zp) -> None:
    where = zp.project("Mobile App")
    ada = zp.sim.state.users[0]
    for n in range(249):
        zp.sim.state.create("tasks", where.project_id, {"name": f"Task {n}"}, ada)
    items = [t async for t in zp.client.records(where, "tasks", per_page=100)]
    assert len(items) == 250 and len({t.id for t in items}) == 250
    async with zp.session.get(zp.v3(f"/projects/{where.project_id}/tasks"), headers=AUTH,
                              params={"page": "3", "per_page": "100"}) as resp:
        body = await resp.json()
    assert body["page_info"] == {"page": 3, "per_page": 100, "page_count": 50,
                                 "has_next_page": False}
    async with zp.session.get(zp.v3(f"/projects/{where.project_id}/tasks"), headers=AUTH,
                              params={"page": "4", "per_page": "100"}) as resp:
        assert resp.status == 204 and await resp.read() == b""


async def test_empty_lists_answer_204(zp: Zp) -> None:
    where = zp.project("Mobile App")
    async with zp.session.get(zp.v3(f"/projects/{where.project_id}/issues"),
                              headers=AUTH) as resp:
        assert resp.status == 204
    assert [i async for i in zp.client.records(where, "issues")] == []
    assert await zp.client.milestones(where) == []
    assert await zp.client.timelogs(where) == []


async def test_changed_since_stops_at_the_cursor(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    everything = [t async for t in zp.client.changed_since(where, "tasks",
                                                           datetime(2000, 1, 1, tzinfo=UTC))]
    assert len(everything) == 3
    cursor = datetime.now(UTC) - timedelta(milliseconds=1)  # stamps have ms precision
    assert [t async for t in zp.client.changed_since(where, "tasks", cursor)] == []
    ref = zp.ref("tasks", "Book domain")
    await zp.client.update(ref, {"cf_billing_type": "Billable"})
    changed = [t async for t in zp.client.changed_since(where, "tasks", cursor)]
    assert [t.id for t in changed] == [ref.id]


async def test_filter_by_custom_field(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    criteria = {"criteria": [{"field_name": "cf_billing_type", "criteria_condition": "is",
                              "value": ["Billable"]},
                             {"field_name": "priority", "criteria_condition": "is",
                              "value": ["medium"]}], "pattern": "1 OR 2"}
    found = [t.name async for t in zp.client.records(where, "tasks", filter=criteria)]
    assert sorted(found) == ["Design landing page", "Write launch copy"]
    moment = datetime.now(UTC) - timedelta(milliseconds=1)  # the write stamps at least now
    cursor = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    await zp.client.update(zp.ref("tasks", "Book domain"), {"priority": "low"})
    recent = {"criteria": [{"field_name": "last_modified_time", "criteria_condition": "after",
                            "value": [cursor]}], "pattern": "1"}
    assert [t.name async for t in zp.client.records(where, "tasks", filter=recent)] == \
        ["Book domain"]


async def test_task_create_patch_status_and_delete(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    ben = zp.sim.state.users[1]
    created = await zp.client.create(where, "tasks", {
        "name": "Ship it", "description": "<p>Go</p>", "priority": "high",
        "owners_and_work": {"owners": [{"zpuid": ben["zpuid"]}]},
        "cf_billing_type": "Non Billable"})
    assert created.kind == "tasks" and created.prefix.startswith("WEB1-T")
    assert created.raw["owners_and_work"]["owners"][0]["email"] == "ben@example.com"
    ref = RecordRef(where.portal_id, where.project_id, "tasks", created.id)
    closed = next(s for s in zp.sim.state.statuses["tasks"] if s["name"] == "Closed")
    updated = await zp.client.set_status(ref, closed["id"])
    assert updated.status and updated.status.is_closed_type is True
    assert updated.raw["is_completed"] is True
    assert updated.last_modified_time > created.last_modified_time
    patched = await zp.client.update(ref, {"cf_billing_type": "Billable"})
    assert patched.raw["cf_billing_type"] == "Billable" and patched.name == "Ship it"
    assert (await zp.client.record(ref)).raw["cf_billing_type"] == "Billable"
    await zp.client.delete(ref)
    with pytest.raises(ZohoProjectsError) as missing:
        await zp.client.record(ref)
    assert missing.value.status == 404 and missing.value.outcome is Outcome.PERMANENT


async def test_issue_writes_and_validation_errors(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    issue = await zp.client.create(where, "issues", {"name": "Crash on save",
                                                     "cf_customer_impact": "High"})
    ref = RecordRef(where.portal_id, where.project_id, "issues", issue.id)
    with pytest.raises(ZohoProjectsError) as bad:
        await zp.client.update(ref, {"cf_billing_type": "Sometimes"})
    assert bad.value.title == "INVALID_PARAMETER_VALUE"
    assert bad.value.error_type == "FIELDS_VALIDATION_ERROR"
    assert bad.value.details[0]["field_name"] == "cf_billing_type"
    with pytest.raises(ZohoProjectsError) as custom_status:
        await zp.client.update(ref, {"custom_status": "Closed"})
    assert custom_status.value.details[0]["field_name"] == "custom_status"
    fixed = await zp.client.update(ref, {"flag": "External"})
    assert fixed.raw["flag"] == "External" and fixed.raw["cf_customer_impact"] == "High"


async def test_statuses_carry_open_and_closed_types(zp: Zp) -> None:
    statuses = {s.name: s for s in await zp.client.statuses(zp.project("Website Relaunch"),
                                                            "tasks")}
    assert list(statuses) == ["Open", "In Progress", "In Review", "On Hold", "Closed",
                              "Cancelled"]
    assert statuses["Open"].is_closed_type is False
    assert statuses["Closed"].is_closed_type is True  # seen on "Book domain"
    assert statuses["Cancelled"].is_closed_type is None  # never used in the project


async def test_comments_round_trip(zp: Zp) -> None:
    ref = zp.ref("issues", "Login button misaligned on Safari")
    before = (await zp.client.record(ref)).last_modified_time
    added = await zp.client.add_comment(ref, "<p>Fixed in <b>1.2</b></p>")
    assert added.added_by and added.added_by.email == "ada@example.com"
    assert (await zp.client.record(ref)).last_modified_time == before  # no bump by default
    edited = await zp.client.update_comment(ref, added.id, "<p>Fixed in 1.3</p>")
    assert edited.comment == "<p>Fixed in 1.3</p>"
    texts = [c.comment for c in await zp.client.comments(ref)]
    assert texts == ["<p>Reproduced on Safari 18.</p>", "<p>Fixed in 1.3</p>"]
    await zp.client.delete_comment(ref, added.id)
    assert len(await zp.client.comments(ref)) == 1


async def test_link_note_states_the_jira_link(zp: Zp) -> None:
    ref = zp.ref("tasks", "Design landing page")
    note = await zp.client.add_link_note(ref, jira_key="WEB-42",
                                         jira_url="https://acme.atlassian.net/browse/WEB-42",
                                         jira_issue_id="10042", sci_name="Web <sync>",
                                         automatic=False)
    assert "WEB-42" in note.comment and "10042" in note.comment
    assert "Web &lt;sync&gt;" in note.comment and "manual link" in note.comment
    assert (await zp.client.comments(ref))[-1].id == note.id


async def test_workdrive_two_step_upload_and_streamed_download(zp: Zp) -> None:
    ref = zp.ref("tasks", "Write launch copy")
    content = bytes(range(256)) * 1000
    attachment = await zp.client.upload_attachment(
        ref, "spec.bin", lambda: io.BytesIO(content), size=len(content), folder_id="wdfolder1")
    assert attachment.size == len(content) and attachment.third_party_file_id
    (listed,) = await zp.client.attachments(ref)
    assert listed == attachment
    chunks = [c async for c in zp.client.download_attachment(listed, chunk_size=4096)]
    assert b"".join(chunks) == content and len(chunks) > 1


async def test_a_file_near_the_cap_uploads_and_dissociates(zp: Zp) -> None:
    ref = zp.ref("tasks", "Write launch copy")
    content = b"\x00" * (10 * 1024 * 1024 - 1)
    attachment = await zp.client.upload_attachment(
        ref, "dump.bin", lambda: io.BytesIO(content), size=len(content), folder_id="wdfolder1")
    assert attachment.size == len(content)
    await zp.client.delete_attachment(ref, attachment.id)
    assert await zp.client.attachments(ref) == []
    with pytest.raises(ZohoProjectsError) as gone:
        await zp.client.delete_attachment(ref, attachment.id)
    assert gone.value.status == 404


async def test_attachment_cap_is_enforced_before_transfer(zp: Zp) -> None:
    ref = zp.ref("tasks", "Write launch copy")
    calls = zp.sim.requests
    with pytest.raises(ZohoProjectsError, match="exceeds"):
        await zp.client.upload_attachment(ref, "big.iso", lambda: io.BytesIO(b"x"),
                                          size=10 * 1024 * 1024 + 1, folder_id="wdfolder1")
    assert zp.sim.requests == calls and zp.sim.state.files == {}
    small = await zp.client.upload_attachment(ref, "a.txt", lambda: io.BytesIO(b"hello"),
                                              size=5, folder_id="wdfolder1")
    calls = zp.sim.requests
    with pytest.raises(ZohoProjectsError, match="exceeds"):
        [c async for c in zp.client.download_attachment(small, cap=4)]
    assert zp.sim.requests == calls and len(zp.sim.state.files) == 1


async def test_display_items_and_associated_records(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    (milestone,) = await zp.client.milestones(where)
    assert milestone.name == "Beta launch" and milestone.end_date == "2026-03-27"
    assert len(await zp.client.timelogs(where)) == 2
    design = zp.ref("tasks", "Design landing page")
    (log,) = await zp.client.timelogs(where, design)
    assert log.hours == "02:30" and log.owner and log.owner.name == "Ben Builder"
    related = await zp.client.related(design)
    assert [i.name for i in related.associated] == ["Login button misaligned on Safari"]
    assert [f.name for f in related.followers] == ["Ada Admin", "Ben Builder"]
    assert [c.comment for c in related.comments] == ["<p>First draft is in Figma.</p>"]
    assert related.attachments == []
    bug = zp.ref("issues", "Login button misaligned on Safari")
    assert [t.name for t in await zp.client.associated(bug)] == ["Design landing page"]


async def test_search_by_name(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    found = await zp.client.search(where, "issues", "safari")
    assert [i.name for i in found] == ["Login button misaligned on Safari"]
    calls = zp.sim.requests
    with pytest.raises(ZohoProjectsError, match="at least 2 characters"):
        await zp.client.search(where, "issues", " s ")
    assert zp.sim.requests == calls


async def test_bad_token_needs_attention(zp: Zp) -> None:
    with pytest.raises(ZohoProjectsError) as rejected:
        await zp.make_client(token="1000.revoked").portals()
    assert rejected.value.status == 401 and rejected.value.title == "INVALID_OAUTHTOKEN"
    assert rejected.value.needs_attention and "1000.revoked" not in str(rejected.value)


async def test_missing_scope_is_reported(start_zp: SimFactory) -> None:
    zp = await start_zp(scopes_for=lambda token: {"ZohoProjects.tasks.ALL",
                                                  "ZohoProjects.portals.READ"})
    assert len(await zp.client.portals()) == 1
    with pytest.raises(ZohoProjectsError) as rejected:
        [i async for i in zp.client.records(zp.project("Website Relaunch"), "issues")]
    assert rejected.value.title == "OAUTH_SCOPE_MISMATCH"


async def test_transient_faults_are_retried(zp: Zp) -> None:
    async with zp.session.post(f"{zp.url}/_sim/faults", json={"burst_5xx": 2}) as resp:
        assert resp.status == 200
    assert len(await zp.client.projects(zp.portal_id)) == 2
    async with zp.session.get(f"{zp.url}/_sim/state") as resp:
        state = await resp.json()
    assert state["faults"]["burst_5xx"] == 0 and state["records"]["tasks"] == 4


async def test_routing_errors_aliases_and_portal_lists(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    async with zp.session.get(zp.v3("/projects/1/nothing-here"), headers=AUTH) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["title"] == "URL_RULE_NOT_CONFIGURED"
    async with zp.session.put(zp.v3(f"/projects/{where.project_id}/tasks"),
                              headers=AUTH) as resp:
        assert (await resp.json())["error"]["title"] == "INVALID_METHOD"
    async with zp.session.get(zp.v3(f"/projects/{where.project_id}/bugs"),
                              headers=AUTH) as resp:
        assert len((await resp.json())["bugs"]) == 2
    async with zp.session.get(zp.v3("/tasks"), headers=AUTH) as resp:
        assert len((await resp.json())["tasks"]) == 4
    async with zp.session.get(f"{zp.url}/api/v3/portal/999/projects", headers=AUTH) as resp:
        assert resp.status == 404
    projects = {p.name: p.id for p in await zp.client.projects(zp.portal_id)}
    assert zp.sim.sandbox_info(zp.url + "/") == {
        "projects_api_url": zp.url, "workdrive_api_url": zp.url, "portal_id": zp.portal_id,
        "project_ids": projects}


async def test_projects_side_search_by_name_and_by_id(zp: Zp) -> None:
    where = zp.project("Website Relaunch")
    side = ProjectsSide(zp.client, where.portal_id, where.project_id, "issues")
    (found,) = await side.search("safari", limit=10)
    assert found.title == "Login button misaligned on Safari"
    assert found.url == side.record_url(found.id)
    by_id = await side.search(found.id, limit=10)
    assert by_id[0].id == found.id
    assert await side.search("no such words", limit=10) == []


async def test_the_projects_side_groups_associated_records_for_the_panel(zp: Zp) -> None:
    design = zp.ref("tasks", "Design landing page")
    side = ProjectsSide(zp.client, design.portal_id, design.project_id, "tasks",
                        web_url="https://projects.example.test")
    groups = {g.name: g.items for g in await side.associated(design.id)}
    assert list(groups) == ["Associated issues", "Comments", "Followers", "Attachments"]
    (bug,) = groups["Associated issues"]
    assert bug.title == "Login button misaligned on Safari"
    assert bug.url.endswith(f"#bugdetail/{design.project_id}/{bug.id}")
    (comment,) = groups["Comments"]
    assert comment.title == "First draft is in Figma."
    assert comment.url.endswith(f"#taskdetail/{design.project_id}/{design.id}")
    assert [f.title for f in groups["Followers"]] == ["Ada Admin", "Ben Builder"]
    assert groups["Attachments"] == []
