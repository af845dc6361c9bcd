from typing import Any

import msgspec
import pytest

from bridge.routing import decode_event, route
from bridge.sci import SciConfig


def sci(**overrides: Any) -> SciConfig:
    base: dict[str, Any] = {
        "id": "s1", "name": "S1", "mode": "two_way", "jira_projects": ["SUP"],
        "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Deals"},
    }
    return msgspec.convert({**base, **overrides}, SciConfig)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jira_projects": ["SUP", "ENG"]}, "exactly one Jira project"),
        ({"mode": "display", "auto_create": True}, "display items cannot use: auto_create"),
        ({"auto_create": True, "zoho": {"system": "crm", "module": "Notes"}}, "polling-ready"),
        ({"mode": "custom", "mappings": [{"jira": "summary", "zoho": "Deal_Name"}]}, "owner"),
        ({"mappings": [{"jira": "summary", "zoho": "Deal_Name", "owner": "jira"}]}, "owner"),
        ({"mappings": [{"jira": "summary", "zoho": "A"}, {"jira": "summary", "zoho": "B"}]},
         "mapped twice"),
        ({"status_sync": True}, "status_field"),
        ({"zoho": {"system": "projects", "module": "tasks"}}, "portal_id and project_id"),
        ({"zoho": {"system": "projects", "module": "milestones", "portal_id": "1",
                   "project_id": "2"}}, "display-only"),
        ({"rule": {"field": "Type", "operator": "equals", "status_when_met": "Done",
                   "status_when_not_met": "To Do"}}, "needs a value"),
        ({"attachment_max_bytes": 20 * 1024 * 1024}, "between 1 and 10 MB"),
        ({"attachments": True, "zoho": {"system": "projects", "module": "tasks",
                                        "portal_id": "1", "project_id": "2"}},
         "need zoho.workdrive_folder"),
        ({"zoho": {"system": "crm", "module": "Deals", "workdrive_folder": "f1"}},
         "only apply to Zoho Projects"),
        ({"id": "bad id!"}, "may only hold"),
    ],
)
def test_invalid_items_say_which_rule(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        sci(**overrides)


def test_display_items_span_projects_and_ignore_issue_type() -> None:
    item = sci(mode="display", jira_projects=["SUP", "ENG"], jira_issue_type="")
    assert item.applies_to("ENG", "Bug") and not item.applies_to("OPS", "Task")


def test_synchronized_items_need_matching_issue_type() -> None:
    item = sci()
    assert item.applies_to("SUP", "Task") and not item.applies_to("SUP", "Bug")


def event(key: str, project: str | None, issue_type: str | None) -> bytes:
    fields: dict[str, Any] = {}
    if project:
        fields["project"] = {"key": project}
    if issue_type:
        fields["issuetype"] = {"name": issue_type}
    return msgspec.json.encode(
        {"webhookEvent": "jira:issue_updated", "issue": {"key": key, "fields": fields}}
    )


def test_route_by_project_and_issue_type() -> None:
    items = [sci(id="task"), sci(id="bug", jira_issue_type="Bug"),
             sci(id="other", jira_projects=["ENG"]), sci(id="off", enabled=False)]
    assert route(decode_event(event("SUP-1", "SUP", "Bug")), items) == ["bug"]
    assert route(decode_event(event("SUP-1", "SUP", "Task")), items) == ["task"]


def test_route_without_issue_type_reaches_every_sci_of_the_project() -> None:
    items = [sci(id="task"), sci(id="bug", jira_issue_type="Bug")]
    # Comment events may carry only the issue key: fall back to the key's project.
    assert route(decode_event(event("SUP-9", None, None)), items) == ["task", "bug"]


def test_route_event_without_issue() -> None:
    assert route(decode_event(b'{"webhookEvent": "jira:version_created"}'), [sci()]) == []


def test_attachment_events_reach_every_sci_that_syncs_attachments() -> None:
    items = [sci(id="files", attachments=True), sci(id="plain"),
             sci(id="off", attachments=True, enabled=False),
             sci(id="other", attachments=True, jira_projects=["ENG"])]
    body = msgspec.json.encode({"webhookEvent": "attachment_created",
                                "attachment": {"id": 10001, "filename": "a.txt"}})
    assert route(decode_event(body), items) == ["files", "other"]
    assert route(decode_event(b'{"webhookEvent": "attachment_created"}'), items) == []
