"""Search and listing endpoints: JQL grammar, expansions, retired paths, index delay."""

import pytest

from adapters.jira.simulator.state import default_workflow

from .conftest import Jira

REMOVED = "/rest/api/3/search/jql"


async def keys(jira: Jira, jql: str, **options) -> list[str]:
    return [i.key async for i in jira.client.search(jql, fields=("summary",), **options)]


async def test_jql_or_parentheses_labels_and_issuekey_in(jira: Jira) -> None:
    await jira.client.edit_issue("SUP-2", fields={"labels": ["vip"]})
    await jira.client.edit_issue("ENG-1", fields={"labels": ["vip", "import"]})
    assert await keys(jira, "labels = vip ORDER BY key") == ["ENG-1", "SUP-2"]
    assert await keys(jira, "labels in (import, nothing)") == ["ENG-1"]
    assert await keys(jira, "project = SUP AND labels is EMPTY") == ["SUP-1", "SUP-3"]
    assert await keys(jira, "project = SUP AND (labels = vip OR issuetype = Bug)") == [
        "SUP-2", "SUP-3"]
    assert await keys(jira, "project = ENG OR key = SUP-1 ORDER BY key DESC") == [
        "SUP-1", "ENG-1"]
    assert await keys(jira, "issuekey in (SUP-1, SUP-3) AND NOT issuetype = Bug") == ["SUP-1"]
    assert await keys(jira, 'project = SUP AND summary !~ "login" AND labels != vip') == [
        "SUP-1"]


@pytest.mark.parametrize(("jql", "message"), [
    ("project = SUP AND (labels = vip", "Expecting ')'"),
    ("ORDER BY key", "Unbounded"),
    ("watchCount > 1", "does not exist"),
    ('updated > "next week"', "is invalid"),
    ("labels > vip", "not supported"),
])
async def test_bad_jql_is_a_400_with_jira_wording(jira: Jira, jql: str, message: str) -> None:
    status, body, _ = await jira.raw("GET", "/rest/api/3/search/jql", params={"jql": jql})
    assert status == 400 and message in body["errorMessages"][0]


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_retired_search_answers_410_pointing_to_search_jql(jira: Jira, version: str,
                                                                 method: str) -> None:
    options = {"params": {"jql": "project = SUP"}} if method == "GET" else {
        "json": {"jql": "project = SUP"}}
    status, body, headers = await jira.raw(method, f"/rest/api/{version}/search", **options)
    assert status == 410 and headers["Content-Type"].startswith("application/json")
    assert REMOVED in body["errorMessages"][0] and body["errors"] == {}


async def test_search_jql_honours_properties_and_expand(jira: Jira) -> None:
    await jira.client.set_property("SUP-1", "bridge.sync", {"zoho": "42"})
    await jira.client.set_property("SUP-1", "other", 1)
    status, page, _ = await jira.raw("GET", "/rest/api/3/search/jql", params={
        "jql": "key = SUP-1", "fields": "summary,status", "properties": "bridge.sync",
        "expand": "names,transitions"})
    assert status == 200
    (issue,) = page["issues"]
    assert issue["properties"] == {"bridge.sync": {"zoho": "42"}}
    assert {t["to"]["name"] for t in issue["transitions"]} == {"In Progress", "Done"}
    assert page["names"] == {"summary": "Summary", "status": "Status"}
    (typed,) = [i async for i in jira.client.search("key = SUP-1", fields=("summary",),
                                                    expand=("transitions",),
                                                    properties=("bridge.sync", "other"))]
    assert typed.properties == {"bridge.sync": {"zoho": "42"}, "other": 1}
    assert typed.transitions is not None and len(typed.transitions) == 2
    status, _, _ = await jira.raw("POST", "/rest/api/3/search/jql", json={
        "jql": "key = SUP-1", "properties": ["a", "b", "c", "d", "e", "f"]})
    assert status == 400


async def test_an_edit_that_changes_nothing_keeps_updated(jira: Jira) -> None:
    jira.sim.clock.advance(120)
    before = await jira.client.get_issue("SUP-1")
    await jira.client.edit_issue("SUP-1", fields={"summary": before.fields["summary"],
                                                  "labels": []})
    after = await jira.client.get_issue("SUP-1")
    assert after.fields["updated"] == before.fields["updated"]
    await jira.client.edit_issue("SUP-1", fields={"summary": "now different"})
    changed = await jira.client.get_issue("SUP-1")
    assert changed.updated_at is not None and before.updated_at is not None
    assert changed.updated_at > before.updated_at


async def test_project_search_pages_with_next_page_links(jira: Jira) -> None:
    for n in range(3):
        jira.sim.state.add_project(f"P{n}", f"Project {n}", default_workflow())
    status, first, _ = await jira.raw("GET", "/rest/api/3/project/search",
                                      params={"maxResults": "2"})
    assert status == 200
    assert (first["startAt"], first["maxResults"], first["total"], first["isLast"]) == (
        0, 2, 5, False)
    assert [p["key"] for p in first["values"]] == ["ENG", "P0"]
    next_page = first["nextPage"].removeprefix(jira.url)
    _, second, _ = await jira.raw("GET", next_page)
    assert [p["key"] for p in second["values"]] == ["P1", "P2"]
    _, by_key, _ = await jira.raw("GET", "/rest/api/2/project/search",
                                  params={"keys": "SUP,P1", "orderBy": "-key"})
    assert [p["key"] for p in by_key["values"]] == ["SUP", "P1"] and by_key["isLast"]
    listed = await jira.client.projects(page_size=2)
    assert [p["key"] for p in listed] == ["ENG", "P0", "P1", "P2", "SUP"]


async def test_index_delay_hides_fresh_writes_until_they_are_indexed(jira: Jira) -> None:
    status, _, _ = await jira.raw("POST", "/_sim/search", json={"index_delay": 60})
    assert status == 200
    created = await jira.client.create_issue({"project": {"key": "SUP"},
                                              "issuetype": {"name": "Task"},
                                              "summary": "fresh"})
    await jira.client.edit_issue("SUP-1", fields={"summary": "renamed"})
    assert await keys(jira, 'project = SUP AND summary ~ "fresh"') == []
    assert await keys(jira, 'project = SUP AND summary ~ "renamed"') == []
    assert await keys(jira, 'project = SUP AND summary ~ "export"') == ["SUP-1"]  # stale
    assert await keys(jira, 'project = SUP AND summary ~ "fresh"',
                      reconcile=[created.id]) == [created.key]
    jira.sim.clock.advance(61)  # the simulator clock, so no test waits a real minute
    assert await keys(jira, 'project = SUP AND summary ~ "fresh"') == [created.key]
    assert await keys(jira, 'project = SUP AND summary ~ "renamed"') == ["SUP-1"]


async def test_index_delay_is_off_by_default_and_can_be_switched_back(make_jira) -> None:
    async with make_jira(index_delay=30.0) as jira:
        await jira.client.edit_issue("SUP-2", fields={"summary": "hidden for now"})
        assert await keys(jira, 'summary ~ "hidden"') == []
        await jira.raw("POST", "/_sim/search", json={"index_delay": 0})
        assert await keys(jira, 'summary ~ "hidden"') == ["SUP-2"]
