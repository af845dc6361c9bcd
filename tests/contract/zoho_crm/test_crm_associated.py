"""A CRM record's associated records, read by the CRM side from the related-list metadata
and the related lists the simulator serves."""

import pytest

from adapters.zoho.crm import ZohoCrmError
from bridge.sides.zoho_crm import CrmSide
from tests.contract.zoho_crm.conftest import Crm

WEB = "https://crm.example.test"
ROLE_DECISION_MAKER = "5551500000000000001"


async def test_related_list_metadata_names_the_module_lists(crm: Crm) -> None:
    lists = await crm.client.related_lists("Deals")
    assert [(e["api_name"], e["display_label"], e["visible"]) for e in lists] == [
        ("Stage_History", "Stage History", True), ("Contact_Roles", "Contact Roles", True),
        ("Tasks", "Tasks", True), ("Notes", "Notes", True),
        ("Attachments", "Attachments", True)]
    assert [e["api_name"] for e in await crm.client.related_lists("Cases")] == [
        "Tasks", "Notes", "Attachments"]


async def test_deal_groups_stage_history_contact_roles_open_tasks_and_notes(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    contact = next(iter(crm.sim.store.records["Contacts"]))
    await crm.client.update("Deals", [{"id": deal, "Stage": "Closed Won"}])
    open_task, done_task = await crm.client.insert("Tasks", [
        {"Subject": "Send contract", "Status": "In Progress", "Due_Date": "2026-12-24",
         "What_Id": {"id": deal}},
        {"Subject": "Kick-off call", "Status": "Completed", "What_Id": {"id": deal}}])
    await crm.client.add_note("Deals", deal, "Budget approved\nby finance", title="")
    answer = await crm.client.transport.request(
        "PUT", f"{crm.url}/crm/v8/Deals/{deal}/Contact_Roles/{contact}",
        data=b'{"data":[{"Contact_Role":{"id":"%s"}}]}' % ROLE_DECISION_MAKER.encode(),
        headers={"Content-Type": "application/json"})
    assert answer.status == 200

    side = CrmSide(crm.client, "Deals", [], "Stage", web_url=WEB)
    groups = {g.name: g.items for g in await side.associated(deal)}

    assert list(groups) == ["Stage History", "Contact Roles", "Open tasks", "Notes",
                            "Attachments"]
    assert [i.title for i in groups["Stage History"]] == ["Closed Won", "Qualification"]
    assert {i.url for i in groups["Stage History"]} == {f"{WEB}/crm/tab/Deals/{deal}"}
    (role,) = groups["Contact Roles"]
    assert (role.id, role.title, role.subtitle) == (
        contact, "Grace Hopper", "Decision Maker · grace@example.com")
    assert role.url == f"{WEB}/crm/tab/Contacts/{contact}"
    (task,) = groups["Open tasks"]
    assert (task.id, task.title, task.subtitle) == (
        open_task.id, "Send contract", "In Progress · due 2026-12-24")
    assert task.url == f"{WEB}/crm/tab/Tasks/{open_task.id}" and done_task.id
    (note,) = groups["Notes"]
    assert note.title == "Budget approved" and note.subtitle.startswith("Bridge Admin · ")
    assert groups["Attachments"] == []


async def test_a_contact_role_must_be_a_known_role(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    contact = next(iter(crm.sim.store.records["Contacts"]))
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.transport.request(
            "PUT", f"{crm.url}/crm/v8/Deals/{deal}/Contact_Roles/{contact}",
            data=b'{"data":[{"Contact_Role":{"id":"1"}}]}',
            headers={"Content-Type": "application/json"})
    assert info.value.code == "INVALID_DATA"
    assert await crm.client.related("Deals", deal, "Contact_Roles") == []


async def test_a_deleted_record_fails_the_read(crm: Crm) -> None:
    case = next(iter(crm.sim.store.records["Cases"]))
    side = CrmSide(crm.client, "Cases", [], "Status", web_url=WEB)
    assert [g.name for g in await side.associated(case)] == ["Open tasks", "Notes",
                                                             "Attachments"]
    await crm.client.delete("Cases", [case])
    with pytest.raises(ZohoCrmError, match=r"INVALID_DATA|invalid"):
        await side.associated(case)
