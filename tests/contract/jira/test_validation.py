"""What Jira refuses on create, edit and comment — and how stored references render."""

from typing import Any

import pytest

from adapters.http import Outcome
from adapters.jira.client import JiraError

from .conftest import Jira

ANN = "5b10ac8d82e05b22cc7d4ef5"
INVALID_INPUT = {"errorMessages": ["INVALID_INPUT"], "errors": {}}


def paragraph(*inline: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                                                      "content": list(inline)}]}


BAD_DOCUMENTS = {
    "empty text node": paragraph({"type": "text", "text": ""}),
    "unknown node type": {"type": "doc", "version": 1, "content": [{"type": "marquee"}]},
    "missing version": {"type": "doc", "content": [{"type": "paragraph", "content": []}]},
    "unknown mark": paragraph({"type": "text", "text": "x", "marks": [{"type": "blink"}]}),
}


@pytest.mark.parametrize("name", BAD_DOCUMENTS)
async def test_v3_refuses_invalid_adf_with_invalid_input(jira: Jira, name: str) -> None:
    document = BAD_DOCUMENTS[name]
    attempts = [
        ("POST", "/rest/api/3/issue", {"fields": {"project": {"key": "SUP"},
                                                  "issuetype": {"name": "Task"},
                                                  "summary": "x", "description": document}}),
        ("PUT", "/rest/api/3/issue/SUP-1", {"fields": {"description": document}}),
        ("POST", "/rest/api/3/issue/SUP-1/comment", {"body": document}),
    ]
    for method, path, body in attempts:
        status, answer, _ = await jira.raw(method, path, json=body)
        assert (status, answer) == (400, INVALID_INPUT), (method, path)
    issue = await jira.client.get_issue("SUP-1")
    assert issue.fields["comment"]["total"] == 0
    assert len(jira.sim.state.issues) == 4


async def test_client_says_why_a_document_is_invalid_before_sending(jira: Jira) -> None:
    with pytest.raises(JiraError) as info:
        await jira.client.add_comment("SUP-1", BAD_DOCUMENTS["empty text node"])
    assert info.value.outcome is Outcome.PERMANENT and "non-empty text" in str(info.value)
    with pytest.raises(JiraError) as edit:
        await jira.client.edit_issue("SUP-1", fields={
            "description": BAD_DOCUMENTS["missing version"]})
    assert "version" in str(edit.value)
    assert [a for i in jira.sim.state.issues.values() for a in i.writes] == []


async def test_status_changes_only_by_transition(jira: Jira) -> None:
    with pytest.raises(JiraError) as info:
        await jira.client.edit_issue("SUP-1", fields={"status": {"name": "Done"}})
    assert info.value.status == 400
    assert "cannot be set" in info.value.errors["status"]
    issue = await jira.client.get_issue("SUP-1", fields=("status",))
    assert issue.fields["status"]["name"] == "To Do"


@pytest.mark.parametrize(("fields", "field"), [
    ({"colour": "red"}, "colour"),
    ({"customfield_99999": "x"}, "customfield_99999"),
    ({"assignee": {"accountId": "no-such-account"}}, "assignee"),
    ({"priority": {"name": "Urgent-ish"}}, "priority"),
    ({"priority": {"id": "77"}}, "priority"),
    ({"customfield_10012": {"value": "Antarctica"}}, "customfield_10012"),
    ({"customfield_10011": "lots"}, "customfield_10011"),
    ({"labels": ["two words"]}, "labels"),
    ({"duedate": "next tuesday"}, "duedate"),
])
async def test_unknown_fields_and_references_are_refused_per_field(
        jira: Jira, fields: dict[str, Any], field: str) -> None:
    before = await jira.client.get_issue("SUP-1")
    with pytest.raises(JiraError) as edit:
        await jira.client.edit_issue("SUP-1", fields=fields)
    assert edit.value.status == 400 and set(edit.value.errors) == {field}
    with pytest.raises(JiraError) as create:
        await jira.client.create_issue({"project": {"key": "SUP"},
                                        "issuetype": {"name": "Task"}, "summary": "new",
                                        **fields})
    assert set(create.value.errors) == {field}
    assert await jira.client.get_issue("SUP-1") == before


async def test_stored_references_render_as_objects(jira: Jira) -> None:
    await jira.client.edit_issue("SUP-1", fields={
        "assignee": {"accountId": ANN}, "priority": {"id": "1"},
        "customfield_10012": {"value": "APAC"}, "customfield_10011": 1500.5,
        "duedate": "2026-12-24"})
    fields = (await jira.client.get_issue("SUP-1")).fields
    assert fields["assignee"]["accountId"] == ANN
    assert fields["assignee"]["displayName"] == "Ann Agent"
    assert {k: fields["priority"][k] for k in ("id", "name")} == {"id": "1", "name": "Highest"}
    assert fields["priority"]["iconUrl"].startswith("http")
    assert {k: fields["customfield_10012"][k] for k in ("id", "value")} == {
        "id": "10102", "value": "APAC"}
    assert (fields["customfield_10011"], fields["duedate"]) == (1500.5, "2026-12-24")
    await jira.client.edit_issue("SUP-1", fields={"assignee": None})
    assert (await jira.client.get_issue("SUP-1")).fields["assignee"] is None
