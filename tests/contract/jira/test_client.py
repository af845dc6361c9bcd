"""Our Jira client against the simulator, operation by operation."""

import io

import aiohttp
import pytest

from actors.budget import RateBudget
from adapters.http import Outcome
from adapters.jira.client import (
    AttachmentTooLarge,
    JiraClient,
    JiraError,
    NoTransition,
    ensure_webhook,
)

from .conftest import Jira


async def test_create_get_edit_delete(jira: Jira) -> None:
    created = await jira.client.create_issue({
        "project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "Printer on fire",
        "description": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Smoke!"}]}]}})
    assert created.id.isdigit() and created.key.startswith("SUP-")
    await jira.client.edit_issue(created.key, fields={"summary": "Printer fixed"},
                                 update={"labels": [{"add": "hardware"}]})
    issue = await jira.client.get_issue(created.key, expand=("changelog",))
    assert issue.fields["summary"] == "Printer fixed"
    assert issue.fields["labels"] == ["hardware"]
    assert issue.fields["status"]["statusCategory"]["key"] == "new"
    zone = await jira.client.time_zone()
    assert issue.updated_at is not None
    assert issue.updated_at.utcoffset() == issue.updated_at.astimezone(zone).utcoffset()
    items = [i for h in issue.changelog["histories"] for i in h["items"]]  # type: ignore[index]
    assert {"summary", "labels"} <= {i["field"] for i in items}
    await jira.client.delete_issue(created.key)
    with pytest.raises(JiraError) as info:
        await jira.client.get_issue(created.key)
    assert info.value.status == 404 and "does not exist" in str(info.value)


async def test_validation_errors_are_typed(jira: Jira) -> None:
    with pytest.raises(JiraError) as info:
        await jira.client.create_issue({"project": {"key": "SUP"},
                                        "issuetype": {"name": "Task"}, "summary": "x" * 256})
    assert info.value.status == 400
    assert info.value.errors == {"summary": "Summary must be less than 255 characters."}
    with pytest.raises(JiraError) as missing:
        await jira.client.create_issue({"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
                                        "description": "plain string is not ADF in v3"})
    assert missing.value.errors["summary"] == "You must specify a summary of the issue."
    assert "Atlassian Document" in missing.value.errors["description"]


async def test_bulk_create_chunks_and_reports_failures(jira: Jira) -> None:
    many = [{"project": {"key": "ENG"}, "issuetype": {"name": "Story"}, "summary": f"s{n}"}
            for n in range(60)]
    many[3] = {"project": {"key": "ENG"}, "issuetype": {"name": "Nope"}, "summary": "bad"}
    result = await jira.client.create_issues(many)
    assert len(result.created) == 59
    assert [(f.index, f.errors) for f in result.failed] == [
        (3, {"issuetype": "The issue type selected is invalid."})]
    all_bad = await jira.client.create_issues([{"project": {"key": "NOPE"}, "summary": "x"}])
    assert all_bad.created == [] and all_bad.failed[0].index == 0


async def test_search_pages_with_tokens(jira: Jira) -> None:
    await jira.client.create_issues([{"project": {"key": "SUP"}, "issuetype": {"name": "Task"},
                                      "summary": f"bulk {n}"} for n in range(7)])
    keys = [i.key async for i in jira.client.search("project = SUP ORDER BY key ASC",
                                                    fields=("summary",), page_size=3)]
    assert len(keys) == 10 and keys[0] == "SUP-1" and keys[-1] == "SUP-10"
    with pytest.raises(JiraError) as info:
        _ = [i async for i in jira.client.search("ORDER BY key DESC")]
    assert info.value.status == 400 and "Unbounded" in str(info.value)


async def test_transitions_follow_the_workflow(jira: Jira) -> None:
    moved = await jira.client.transition_to("SUP-1", "Done")
    assert moved is not None and moved.to.name == "Done"
    assert await jira.client.transition_to("SUP-1", "Done") is None
    with pytest.raises(NoTransition, match="no workflow transition from 'Done' to 'To Do'"):
        await jira.client.transition_to("SUP-1", "To Do")
    names = {t.to.name for t in await jira.client.transitions("SUP-1")}
    assert names == {"In Progress"}


async def test_comments_round_trip(jira: Jira) -> None:
    first = await jira.client.add_comment("SUP-2", "Hello **world**")
    assert first.text == "Hello **world**"
    edited = await jira.client.edit_comment("SUP-2", first.id, "Edited")
    assert edited.text == "Edited" and edited.id == first.id
    for n in range(3):
        await jira.client.add_comment("SUP-2", f"c{n}")
    texts = [c.text async for c in jira.client.comments("SUP-2", page_size=2)]
    assert texts == ["Edited", "c0", "c1", "c2"]
    await jira.client.delete_comment("SUP-2", first.id)
    assert len([c async for c in jira.client.comments("SUP-2")]) == 3


async def test_attachments_stream_both_ways_with_cap(jira: Jira) -> None:
    payload = b"x" * 200_000
    uploaded = await jira.client.upload_attachment(
        "SUP-3", "log.txt", lambda: io.BytesIO(payload), size=len(payload),
        content_type="text/plain")
    assert (uploaded.filename, uploaded.size) == ("log.txt", len(payload))
    chunks = [c async for c in jira.client.download_attachment(str(uploaded.id))]
    assert b"".join(chunks) == payload
    with pytest.raises(AttachmentTooLarge):
        _ = [c async for c in jira.client.download_attachment(str(uploaded.id), cap=1000)]
    with pytest.raises(AttachmentTooLarge):
        await jira.client.upload_attachment("SUP-3", "big.bin", lambda: io.BytesIO(b""),
                                            size=11 * 1024 * 1024)


async def test_remote_links_upsert_by_global_id(jira: Jira) -> None:
    first = await jira.client.upsert_remote_link("SUP-1", global_id="zoho:crm:Deals:1",
                                                 url="https://crm.zoho.com/1", title="Deal 1")
    again = await jira.client.upsert_remote_link("SUP-1", global_id="zoho:crm:Deals:1",
                                                 url="https://crm.zoho.com/1", title="Deal one")
    assert first == again
    (link,) = await jira.client.remote_links("SUP-1")
    assert link.object["title"] == "Deal one"
    await jira.client.delete_remote_link("SUP-1", "zoho:crm:Deals:1")
    assert await jira.client.remote_links("SUP-1") == []


async def test_entity_properties(jira: Jira) -> None:
    assert await jira.client.get_property("SUP-1", "bridge.link") is None
    await jira.client.set_property("SUP-1", "bridge.link", {"record": "42"})
    await jira.client.set_property("SUP-1", "bridge.link", {"record": "43"})
    assert await jira.client.get_property("SUP-1", "bridge.link") == {"record": "43"}
    await jira.client.delete_property("SUP-1", "bridge.link")
    assert await jira.client.get_property("SUP-1", "bridge.link") is None


async def test_metadata(jira: Jira) -> None:
    assert (await jira.client.myself())["emailAddress"] == jira.sim.ctx.email
    assert {p["key"] for p in await jira.client.projects()} == {"SUP", "ENG"}
    statuses = await jira.client.statuses("ENG")
    assert [s.name for s in statuses["Task"]] == ["To Do", "In Progress", "In Review", "Done"]
    assert {s.statusCategory.key for s in statuses["Task"]} == {"new", "indeterminate", "done"}
    assert any(f["id"] == "customfield_10010" for f in await jira.client.fields())


async def test_ensure_webhook_creates_then_updates(jira: Jira) -> None:
    kwargs = {"name": "bridge", "url": "http://127.0.0.1:1/webhooks/jira", "secret": "s",
              "events": ["jira:issue_updated"], "jql": "project = SUP"}
    first = await ensure_webhook(jira.client, **kwargs)
    second = await ensure_webhook(jira.client, **{**kwargs, "jql": "project in (SUP, ENG)"})
    (hook,) = await jira.client.webhooks()
    assert first == second == hook.id and hook.jql == "project in (SUP, ENG)"


async def test_rate_limit_honours_retry_after_through_the_budget(jira: Jira) -> None:
    jira.sim.ctx.limits.issue_writes = 2
    budget = RateBudget("jira", rate=1000, burst=100)
    client = JiraClient.basic(jira.url, jira.sim.ctx.email, jira.sim.ctx.api_token,
                              jira.session, budget=budget)
    for n in range(3):  # the third write within the window gets 429 + Retry-After: 1
        await client.edit_issue("SUP-1", fields={"summary": f"s{n}"})
    issue = await client.get_issue("SUP-1", fields=("summary",))
    assert issue.fields["summary"] == "s2"
    assert budget.statistics().granted >= 5  # the limited write was retried after the pause


async def test_transient_errors_retried_only_for_safe_requests(jira: Jira) -> None:
    jira.sim.faults.burst_5xx = 1
    assert (await jira.client.get_issue("SUP-1")).key == "SUP-1"  # GET retried
    jira.sim.faults.burst_5xx = 1
    with pytest.raises(JiraError) as info:
        await jira.client.add_comment("SUP-1", "not repeated")  # POST is not
    assert info.value.status == 503
    texts = [c.text async for c in jira.client.comments("SUP-1")]
    assert "not repeated" not in texts


async def test_bad_credentials_need_attention(jira: Jira) -> None:
    async with aiohttp.ClientSession() as session:
        client = JiraClient.basic(jira.url, jira.sim.ctx.email, "revoked", session)
        with pytest.raises(JiraError) as info:
            await client.myself()
    assert info.value.outcome is Outcome.AUTH and info.value.needs_attention
    assert "revoked" not in str(info.value)


async def test_dynamic_webhooks_for_oauth_apps(jira: Jira) -> None:
    app = JiraClient.bearer(jira.url, jira.sim.oauth_token, jira.session)
    created = await app.register_dynamic_webhooks("http://127.0.0.1:1/hook", [
        (["jira:issue_updated", "comment_created"], "project = SUP"),
        (["attachment_created"], "project = SUP"),
        (["jira:issue_created"], "watchCount > 1")])
    first, unsupported, bad_jql = created
    assert isinstance(first, int)
    assert "attachment_created is not supported" in str(unsupported)
    assert "does not exist" in str(bad_jql)
    (listed,) = await app.dynamic_webhooks()
    assert (listed["id"], listed["jqlFilter"]) == (first, "project = SUP")
    assert await app.refresh_dynamic_webhooks([first]) >= listed["expirationDate"]
    await app.delete_dynamic_webhooks([first])
    assert await app.dynamic_webhooks() == []


async def test_dynamic_webhooks_refuse_basic_auth(jira: Jira) -> None:
    with pytest.raises(JiraError) as info:
        await jira.client.dynamic_webhooks()
    assert info.value.status == 403 and "OAuth 2.0 apps" in str(info.value)
