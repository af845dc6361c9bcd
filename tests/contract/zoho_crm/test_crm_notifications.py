"""Notification channels and callbacks, shaped as the live service sends them."""

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import Crm, raw_call


async def _watch(crm: Crm, url: str, **item: Any) -> tuple[int, dict]:
    status, _, body = await raw_call(crm, "POST", "/crm/v8/actions/watch", json={"watch": [
        {"channel_id": "1000000068001", "notify_url": url, **item}]})
    return status, body


async def test_enable_answer_carries_resource_id_and_condition(crm: Crm, receiver) -> None:
    url, _ = receiver
    condition = [{"type": "field_selection", "module": {"api_name": "Deals"},
                  "field_selection": {"field": {"api_name": "Stage"}}}]
    status, body = await _watch(crm, url, events=["Deals.all", "Notes.create"],
                                notification_condition=condition)
    assert status == 201
    (answer,) = body["watch"]
    assert answer["code"] == "SUCCESS"
    deals, notes = answer["details"]["events"]
    assert deals["resource_name"] == "Deals" and deals["resource_id"].isdigit()
    assert deals["resource_uri"] == f"{crm.url}/crm/v8/Deals"
    assert deals["notification_condition"] == condition
    assert deals["channel_expiry"].endswith("-07:00")
    assert notes["resource_name"] == "Notes" and notes["resource_id"] != deals["resource_id"]
    status, body = await _watch(crm, url, events=["Nothing.all"])
    assert (status, body["code"]) == (400, "INVALID_DATA")


async def test_batch_insert_is_one_callback_with_all_ids(crm: Crm, receiver) -> None:
    url, seen = receiver
    await _watch(crm, url, events=["Leads.all"])  # no token given
    results = await crm.client.insert("Leads", [{"Last_Name": f"L{n}"} for n in range(3)])
    await crm.sim.settled()
    (callback,) = seen
    assert callback["ids"] == [r.id for r in results]
    assert callback["operation"] == "insert" and callback["module"] == "Leads"
    assert callback["token"] is None
    assert callback["resource_uri"] == f"{crm.url}/crm/v8/Leads"
    assert callback["affected_fields"] == [] and "affected_values" not in callback
    assert isinstance(callback["server_time"], int)


async def test_updates_name_affected_fields_and_values(crm: Crm, receiver) -> None:
    url, seen = receiver
    await crm.client.watch("55", ["Deals.edit"], url, "tok")  # return_affected_field_values
    first, second = crm.sim.store.records["Deals"]
    await crm.client.update("Deals", [{"id": first, "Stage": "Closed Won", "Amount": 1.0},
                                      {"id": second, "Deal_Name": "Renamed"}])
    await crm.sim.settled()
    (callback,) = seen
    assert callback["ids"] == [first, second] and callback["operation"] == "update"
    assert callback["affected_fields"] == [{first: ["Stage", "Amount"]},
                                           {second: ["Deal_Name"]}]
    assert callback["affected_values"] == [
        {"record_id": first, "values": {"Stage": "Closed Won", "Amount": 1.0}},
        {"record_id": second, "values": {"Deal_Name": "Renamed"}}]
    assert callback["token"] == "tok"


async def test_field_selection_limits_edit_callbacks(crm: Crm, receiver) -> None:
    url, seen = receiver
    await _watch(crm, url, events=["Deals.edit"], notification_condition=[
        {"type": "field_selection", "module": {"api_name": "Deals"},
         "field_selection": {"group_operator": "or", "group": [
             {"field": {"api_name": "Stage"}}]}}])
    first, second = crm.sim.store.records["Deals"]
    await crm.client.update("Deals", [{"id": first, "Amount": 5.0}])
    await crm.client.update("Deals", [{"id": second, "Stage": "Closed Lost"}])
    await crm.sim.settled()
    assert [c["ids"] for c in seen] == [[second]]


async def test_notes_channel_and_related_action_on_the_parent(crm: Crm, receiver) -> None:
    url, seen = receiver
    deal = next(iter(crm.sim.store.records["Deals"]))
    await _watch(crm, url, events=["Notes.all", "Deals.edit"], token="t")
    note_id = await crm.client.add_note("Deals", deal, "Linked to SUP-1")
    await crm.sim.settled()
    assert sorted((c["module"], c["operation"], c["ids"][0]) for c in seen) == [
        ("Deals", "update", deal), ("Notes", "insert", note_id)]
    seen.clear()
    await crm.client.update_note(note_id, "Linked to SUP-2")
    await crm.client.delete_note(note_id)
    await crm.sim.settled()
    assert [(c["module"], c["operation"]) for c in seen] == [
        ("Notes", "update"), ("Deals", "update"), ("Notes", "delete"), ("Deals", "update")]


async def test_related_action_can_be_switched_off(crm: Crm, receiver) -> None:
    url, seen = receiver
    deal = next(iter(crm.sim.store.records["Deals"]))
    await _watch(crm, url, events=["Deals.all"], notify_on_related_action=False)
    await crm.client.add_note("Deals", deal, "quiet")
    await crm.client.update("Deals", [{"id": deal, "Amount": 3.0}])
    await crm.sim.settled()
    assert [(c["module"], c["operation"]) for c in seen] == [("Deals", "update")]


async def test_attachments_notify_the_parent_channel(crm: Crm, receiver) -> None:
    url, seen = receiver
    case = next(iter(crm.sim.store.records["Cases"]))
    await _watch(crm, url, events=["Cases.all"])
    await crm.client.upload_attachment("Cases", case, "a.txt", lambda: io.BytesIO(b"x"),
                                       size=1)
    await crm.sim.settled()
    assert [(c["module"], c["operation"], c["ids"]) for c in seen] == [
        ("Cases", "update", [case])]


async def test_channel_expiry_default_cap_and_lapse(crm: Crm, receiver) -> None:
    url, seen = receiver
    now = datetime.fromtimestamp(crm.clock.now, UTC)
    _, body = await _watch(crm, url, events=["Leads.all"])
    default = datetime.fromisoformat(body["watch"][0]["details"]["events"][0]["channel_expiry"])
    assert default - now <= timedelta(hours=1)
    _, body = await _watch(crm, url, events=["Leads.all"],
                           channel_expiry=(now + timedelta(days=6)).isoformat())
    six_days = datetime.fromisoformat(body["watch"][0]["details"]["events"][0]
                                      ["channel_expiry"])
    assert six_days - now > timedelta(days=5)
    crm.clock.advance(timedelta(days=6, minutes=1).total_seconds())
    await crm.client.insert("Leads", [{"Last_Name": "Too late"}])
    await crm.sim.settled()
    assert seen == []  # the channel lapsed


async def test_update_drop_and_unsubscribe_answers(crm: Crm, receiver) -> None:
    url, _ = receiver
    await _watch(crm, url, events=["Leads.all", "Deals.all"])
    status, _, body = await raw_call(crm, "PATCH", "/crm/v8/actions/watch", json={"watch": [
        {"channel_id": "1000000068001", "events": ["Deals.all"], "_delete_events": True}]})
    assert status == 200
    assert body["watch"][0]["message"] == "Successfully removed the subscribe details"
    status, _, body = await raw_call(crm, "PATCH", "/crm/v8/actions/watch", json={"watch": [
        {"channel_id": "1000000068001", "token": "new"}]})
    assert body["watch"][0]["message"] == "Successfully updated the subscribe details"
    (listed,) = await crm.client.watches()
    assert (listed["events"], listed["token"], listed["notify_url"]) == (["Leads.all"], "new",
                                                                         url)
    status, _, body = await raw_call(crm, "DELETE", "/crm/v8/actions/watch",
                                     params={"channel_ids": "1000000068001"})
    (gone,) = body["watch"]
    assert gone["message"] == "Successfully un-subscribed from actions-watch"
    assert [e["resource_name"] for e in gone["details"]["events"]] == ["Leads"]


async def test_patch_renews_or_keeps_the_expiry(crm: Crm, receiver) -> None:
    url, _ = receiver
    now = datetime.fromtimestamp(crm.clock.now, UTC)
    await crm.client.watch("9", ["Leads.all"], url, "t", now + timedelta(days=3))
    await crm.client.renew_watch("9", now + timedelta(days=6))
    (listed,) = await crm.client.watches()
    renewed = datetime.fromisoformat(listed["channel_expiry"])
    assert timedelta(days=5) < renewed - now <= timedelta(days=6)
    status, _, _ = await raw_call(crm, "PATCH", "/crm/v8/actions/watch", json={"watch": [
        {"channel_id": "9", "token": "rotated"}]})
    (listed,) = await crm.client.watches()
    assert status == 200 and listed["token"] == "rotated"
    assert datetime.fromisoformat(listed["channel_expiry"]) == renewed
