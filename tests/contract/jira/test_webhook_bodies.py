"""Webhook bodies shaped as Jira Cloud sends them."""

import io
from typing import Any

from adapters.jira.client import JiraClient

from .conftest import Jira, Receiver

ANN = "5b10ac8d82e05b22cc7d4ef5"
EVERYTHING = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
              "comment_created", "comment_updated", "comment_deleted", "attachment_created",
              "attachment_deleted"]


async def subscribe(jira: Jira, url: str) -> None:
    await jira.client.register_webhook(name="all", url=url, events=EVERYTHING,
                                       jql="project = SUP", secret="s")


async def delivered(jira: Jira, target: Receiver) -> list[dict[str, Any]]:
    """Everything delivered, in arrival order (deliveries may overtake each other)."""
    await jira.sim.deliveries.settled()
    return target.payloads()


async def test_attachment_events_name_no_issue_but_issue_updated_does(jira: Jira,
                                                                      inbox) -> None:
    url, target = inbox
    await subscribe(jira, url)
    attachment = await jira.client.upload_attachment(
        "SUP-1", "notes.txt", lambda: io.BytesIO(b"notes"), size=5)
    status, _, _ = await jira.raw("DELETE", f"/rest/api/3/attachment/{attachment.id}")
    assert status == 204
    events = await delivered(jira, target)
    by_kind = {(p["webhookEvent"], p.get("changelog", {}).get("items", [{}])[0].get("to")
                is None): p for p in events}
    assert len(events) == len(by_kind) == 4
    created, deleted = (next(p for p in events if p["webhookEvent"] == name)
                        for name in ("attachment_created", "attachment_deleted"))
    added, removed = (by_kind[("jira:issue_updated", gone)] for gone in (False, True))
    for event, name in ((created, "attachment_created"), (deleted, "attachment_deleted")):
        assert event["webhookEvent"] == name
        assert "issue" not in event
        assert event["attachment"]["filename"] == "notes.txt"
        assert event["user"]["accountId"]
    assert added["webhookEvent"] == removed["webhookEvent"] == "jira:issue_updated"
    assert added["issue"]["key"] == removed["issue"]["key"] == "SUP-1"
    (item,) = added["changelog"]["items"]
    assert (item["field"], item["to"], item["toString"]) == ("Attachment", str(attachment.id),
                                                             "notes.txt")
    (gone,) = removed["changelog"]["items"]
    assert (gone["from"], gone["to"]) == (str(attachment.id), None)


async def test_comment_with_a_transition_arrives_inside_issue_updated(jira: Jira,
                                                                       inbox) -> None:
    url, target = inbox
    await subscribe(jira, url)
    status, _, _ = await jira.raw("POST", "/rest/api/3/issue/SUP-1/transitions", json={
        "transition": {"id": "21"},
        "update": {"comment": [{"add": {"body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "starting"}]}]}}}]}})
    assert status == 204
    (event,) = await delivered(jira, target)
    assert event["webhookEvent"] == "jira:issue_updated"
    assert event["issue_event_type_name"] == "issue_generic"
    assert event["comment"]["body"] == "starting"  # v2 rendering: plain text
    assert event["changelog"]["items"][0]["toString"] == "In Progress"


async def test_comment_with_an_edit_arrives_inside_issue_updated(jira: Jira, inbox) -> None:
    url, target = inbox
    await subscribe(jira, url)
    await jira.client.edit_issue("SUP-1", update={"comment": [{"add": {"body": {
        "type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "only a note"}]}]}}}]})
    await jira.client.edit_issue("SUP-1", fields={"summary": "renamed"}, update={
        "comment": [{"add": {"body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "and why"}]}]}}}]})
    commented, edited = sorted(await delivered(jira, target),
                               key=lambda p: p["issue_event_type_name"] != "issue_commented")
    assert {commented["webhookEvent"], edited["webhookEvent"]} == {"jira:issue_updated"}
    assert commented["issue_event_type_name"] == "issue_commented"
    assert commented["comment"]["body"] == "only a note" and "changelog" not in commented
    assert edited["issue_event_type_name"] == "issue_updated"
    assert edited["comment"]["body"] == "and why"
    assert edited["changelog"]["items"][0]["toString"] == "renamed"
    comments = [c.text async for c in jira.client.comments("SUP-1")]
    assert comments == ["only a note", "and why"]


async def test_changelog_items_carry_ids_and_display_strings(jira: Jira, inbox) -> None:
    url, target = inbox
    await subscribe(jira, url)
    await jira.client.edit_issue("SUP-1", fields={
        "assignee": {"accountId": ANN}, "priority": {"name": "High"},
        "customfield_10012": {"value": "EMEA"}, "customfield_10010": "Deals/42",
        "labels": ["vip", "renewal"]})
    await jira.client.edit_issue("SUP-1", fields={"customfield_10012": {"id": "10102"}})
    first, second = sorted(await delivered(jira, target),
                           key=lambda p: -len(p["changelog"]["items"]))
    assert first["issue_event_type_name"] == "issue_assigned"
    items = {i["fieldId"]: i for i in first["changelog"]["items"]}
    assert items["assignee"] == {
        "field": "assignee", "fieldtype": "jira", "fieldId": "assignee", "from": None,
        "fromString": None, "to": ANN, "toString": "Ann Agent"}
    assert (items["priority"]["from"], items["priority"]["fromString"]) == ("3", "Medium")
    assert (items["priority"]["to"], items["priority"]["toString"]) == ("2", "High")
    assert items["customfield_10012"]["field"] == "Region"
    assert items["customfield_10012"]["fieldtype"] == "custom"
    assert (items["customfield_10012"]["to"], items["customfield_10012"]["toString"]) == (
        "10100", "EMEA")
    assert items["customfield_10010"]["field"] == "Zoho Record"
    assert items["customfield_10010"]["toString"] == "Deals/42"
    assert items["labels"]["toString"] == "vip renewal"
    for item in first["changelog"]["items"]:
        for text in (item["fromString"], item["toString"]):
            assert text is None or not text.startswith(("{", "[", "("))
    (region,) = second["changelog"]["items"]
    assert (region["from"], region["fromString"], region["to"], region["toString"]) == (
        "10100", "EMEA", "10102", "APAC")
    assert second["issue_event_type_name"] == "issue_updated"


async def test_dynamic_deliveries_name_every_matched_webhook(jira: Jira, inbox) -> None:
    url, target = inbox
    app = JiraClient.bearer(jira.url, jira.sim.oauth_token, jira.session)
    broad, narrow, other = await app.register_dynamic_webhooks(url, [
        (["jira:issue_updated"], "project = SUP"),
        (["jira:issue_updated"], "project = SUP AND issuetype = Bug"),
        (["jira:issue_updated"], "project = ENG")])
    await jira.client.edit_issue("SUP-3", fields={"summary": "a bug, edited"})
    await jira.client.edit_issue("SUP-1", fields={"summary": "a task, edited"})
    bug, task = sorted(await delivered(jira, target), key=lambda p: p["issue"]["key"] != "SUP-3")
    assert bug["matchedWebhookIds"] == [broad, narrow]
    assert task["matchedWebhookIds"] == [broad]
    assert other not in bug["matchedWebhookIds"] + task["matchedWebhookIds"]


async def test_comment_changes_can_also_raise_issue_updated(jira: Jira, inbox) -> None:
    url, target = inbox
    await subscribe(jira, url)
    status, knobs, _ = await jira.raw("POST", "/_sim/webhooks",
                                      json={"comment_updates_issue": True})
    assert status == 200 and knobs["comment_updates_issue"] is True
    comment = await jira.client.add_comment("SUP-1", "seen twice")
    await jira.client.edit_comment("SUP-1", comment.id, "edited")
    await jira.client.delete_comment("SUP-1", comment.id)
    events = [(p["webhookEvent"], p.get("issue_event_type_name"), p["comment"]["id"])
              for p in await delivered(jira, target)]
    assert sorted(events, key=str) == sorted([
        ("comment_created", None, comment.id),
        ("jira:issue_updated", "issue_commented", comment.id),
        ("comment_updated", None, comment.id),
        ("jira:issue_updated", "issue_comment_edited", comment.id),
        ("comment_deleted", None, comment.id),
        ("jira:issue_updated", "issue_comment_deleted", comment.id)], key=str)
