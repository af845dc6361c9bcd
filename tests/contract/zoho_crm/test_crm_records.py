"""Record reads and writes as v8 defines them: typed-field validation, conditional
requests, the org's time zone, required ``fields`` on child lists, answer shapes."""

from datetime import UTC, datetime, timedelta

import pytest

from adapters.zoho.crm import ZohoCrmConflict, parse_zoho_time

from .conftest import Crm, raw_call

AUDIT = {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By"}


@pytest.mark.parametrize(("values", "api_name", "expected"), [
    ({"Closing_Date": "2026-02-30"}, "Closing_Date", "date"),
    ({"Closing_Date": "30/01/2026"}, "Closing_Date", "date"),
    ({"Amount": "12000"}, "Amount", "double"),
    ({"Stage": "Maybe later"}, "Stage", "picklist"),
    ({"Deal_Name": 42}, "Deal_Name", "text"),
    ({"Description": ["a"]}, "Description", "textarea"),
])
async def test_typed_fields_are_validated_per_record(crm: Crm, values: dict, api_name: str,
                                                     expected: str) -> None:
    status, _, body = await raw_call(crm, "POST", "/crm/v8/Deals", json={"data": [
        {"Deal_Name": "fine"}, {"Deal_Name": "bad", **values}]})
    assert status == 207
    ok, bad = body["data"]
    assert ok["status"] == "success"
    assert bad == {"code": "INVALID_DATA", "status": "error", "message": "invalid data",
                   "details": {"api_name": api_name, "json_path": f"$.data[1].{api_name}",
                               "expected_data_type": expected}}


async def test_datetimes_need_an_offset_and_emails_a_shape(crm: Crm) -> None:
    results = await crm.client.insert("Calls", [
        {"Subject": "a", "Call_Start_Time": "2026-01-05T10:00:00"},
        {"Subject": "b", "Call_Start_Time": "2026-01-05T10:00:00+05:30"}])
    assert [(r.code, r.details.get("expected_data_type")) for r in results] == [
        ("INVALID_DATA", "datetime"), ("SUCCESS", None)]
    (bad,) = await crm.client.insert("Leads", [{"Last_Name": "x", "Email": "not-an-email"}])
    assert bad.details == {"api_name": "Email", "json_path": "$.data[0].Email",
                           "expected_data_type": "email"}


async def test_unrestricted_picklists_accept_new_values(crm: Crm) -> None:
    (refused,) = await crm.client.insert("Deals", [{"Deal_Name": "x", "Stage": "Custom"}])
    assert refused.code == "INVALID_DATA"
    status, _, _ = await raw_call(crm, "POST", "/_sim/settings",
                                  json={"restricted_picklists": False})
    assert status == 200
    (accepted,) = await crm.client.insert("Deals", [{"Deal_Name": "x", "Stage": "Custom"}])
    assert accepted.ok


async def test_timestamps_use_the_org_offset(crm: Crm) -> None:
    (result,) = await crm.client.insert("Leads", [{"Last_Name": "Zone"}])
    assert result.details["Created_Time"].endswith("-07:00")
    assert (await crm.client.org())["time_zone"] == "Etc/GMT+7"
    status, _, settings = await raw_call(crm, "POST", "/_sim/settings",
                                         json={"time_zone": "+05:30"})
    assert status == 200 and settings["time_zone"] == "+05:30"
    (later,) = await crm.client.insert("Leads", [{"Last_Name": "Zone 2"}])
    assert later.details["Created_Time"].endswith("+05:30")
    first = parse_zoho_time(result.details["Created_Time"])
    second = parse_zoho_time(later.details["Created_Time"])
    assert abs((second - first).total_seconds()) < 5  # same moment, other offset
    status, _, body = await raw_call(crm, "POST", "/_sim/settings", json={"time_zone": "PST"})
    assert status == 400 and "time zone" in body["error"]


def test_parse_zoho_time_needs_an_offset() -> None:
    moment = parse_zoho_time("2026-01-05T03:00:00-07:00")
    assert moment == datetime(2026, 1, 5, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        parse_zoho_time("2026-01-05T03:00:00")


async def test_single_record_if_modified_since(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    stamp = crm.sim.store.records["Deals"][deal]["Modified_Time"]
    path = f"/crm/v8/Deals/{deal}"
    token = (await crm.oauth.headers())["Authorization"]
    status, _, body = await raw_call(crm, "GET", path, headers={
        "Authorization": token, "If-Modified-Since": stamp})
    assert (status, body) == (304, None)
    crm.clock.advance(2)
    await crm.client.update("Deals", [{"id": deal, "Amount": 7.0}])
    status, _, body = await raw_call(crm, "GET", path, headers={
        "Authorization": token, "If-Modified-Since": stamp})
    assert status == 200 and body["data"][0]["Amount"] == 7.0
    status, _, body = await raw_call(crm, "GET", path, headers={
        "Authorization": token, "If-Modified-Since": "2026-01-05T10:00:00"})
    assert (status, body["code"]) == (400, "INVALID_DATA")  # a zone is needed


async def test_if_unmodified_since_refuses_a_stale_update(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    read_at = parse_zoho_time(crm.sim.store.records["Deals"][deal]["Modified_Time"])
    result = await crm.client.update_one("Deals", deal, {"Amount": 1.0},
                                         unmodified_since=read_at)
    assert result.ok and result.id == deal
    crm.clock.advance(2)
    await crm.client.update_one("Deals", deal, {"Amount": 2.0})  # someone else edits
    with pytest.raises(ZohoCrmConflict) as info:
        await crm.client.update_one("Deals", deal, {"Amount": 3.0}, unmodified_since=read_at)
    assert info.value.status == 412 and info.value.details["id"] == deal
    assert crm.sim.store.records["Deals"][deal]["Amount"] == 2.0  # nothing written
    token = (await crm.oauth.headers())["Authorization"]
    status, _, body = await raw_call(crm, "PUT", "/crm/v8/Deals", headers={
        "Authorization": token, "If-Unmodified-Since": read_at.isoformat()},
        json={"data": [{"id": deal, "Amount": 4.0}]})
    assert (status, body["code"]) == (412, "ALREADY_MODIFIED")
    fresh = await crm.client.update_one("Deals", deal, {"Amount": 5.0},
                                        unmodified_since=datetime.now(UTC) + timedelta(1))
    assert fresh.ok


async def test_update_one_reports_per_record_errors(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    result = await crm.client.update_one("Deals", deal, {"Stage": "Nonsense"})
    assert not result.ok and result.details["api_name"] == "Stage"


async def test_notes_and_attachments_lists_need_fields(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    for path in ("/crm/v8/Notes", f"/crm/v8/Deals/{deal}/Notes",
                 f"/crm/v8/Deals/{deal}/Attachments"):
        status, _, body = await raw_call(crm, "GET", path)
        assert (status, body["details"]) == (400, {"param_name": "fields"}), path
    await crm.client.add_note("Deals", deal, "hello", "title")
    status, _, body = await raw_call(crm, "GET", "/crm/v8/Notes",
                                     params={"fields": "Note_Title"})
    assert status == 200 and set(body["data"][0]) == {"id", "Note_Title"}


async def test_note_create_answer_and_read_by_id(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    status, _, body = await raw_call(crm, "POST", "/crm/v8/Notes", json={"data": [
        {"Note_Content": "c", "Parent_Id": {"id": deal, "module": {"api_name": "Deals"}}}]})
    assert status == 201
    details = body["data"][0]["details"]
    assert set(details) == AUDIT
    assert details["Modified_By"] == details["Created_By"] and details["Modified_By"]["id"]
    note = await crm.client.note(details["id"])
    assert note is not None and note["Note_Content"] == "c"
    assert note["Parent_Id"]["module"]["api_name"] == "Deals"
    assert await crm.client.note("5551000000000099999") is None


async def test_write_answers_carry_audit_fields(crm: Crm) -> None:
    (created,) = await crm.client.insert("Leads", [{"Last_Name": "Audit"}])
    assert set(created.details) == AUDIT
    assert created.id is not None
    updated = await crm.client.update_one("Leads", created.id, {"First_Name": "A"})
    assert set(updated.details) == AUDIT


async def test_field_metadata_has_the_documented_keys(crm: Crm) -> None:
    fields = await crm.client.fields("Deals")
    required = {"associated_module", "operation_type", "view_type", "display_label",
                "json_type", "data_type", "field_read_only", "custom_field", "visible",
                "searchable", "sortable", "filterable", "lookup", "pick_list_values",
                "system_mandatory", "created_source", "ui_type", "webhook"}
    for entry in fields:
        assert required <= set(entry), entry["api_name"]
        assert set(entry["operation_type"]) == {"web_update", "api_create", "web_create",
                                                "api_update"}
    stage = next(f for f in fields if f["api_name"] == "Stage")
    assert {"display_value", "actual_value", "id", "sequence_number", "type"} <= \
        set(stage["pick_list_values"][0])
    what = next(f for f in await crm.client.fields("Tasks") if f["api_name"] == "What_Id")
    assert what["lookup"]["module"]["api_name"]


async def test_module_metadata_has_the_documented_keys(crm: Crm) -> None:
    keys = {"api_name", "module_name", "id", "api_supported", "generated_type", "visible",
            "visibility", "creatable", "editable", "deletable", "viewable", "profiles",
            "sequence_number", "show_as_tab", "recycle_bin_on_delete", "parent_module"}
    for module in await crm.client.modules():
        assert keys <= set(module), module["api_name"]
