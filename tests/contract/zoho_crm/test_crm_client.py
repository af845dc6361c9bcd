"""Our CRM client against the CRM simulator."""

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from adapters.zoho.crm import ZohoCrmError
from adapters.zoho.simulator.crm.data import MODULES

from .conftest import Crm

POLLING_READY = {"Leads", "Contacts", "Accounts", "Deals", "Campaigns", "Calls", "Events",
                 "Tasks", "Products", "Vendors", "Price_Books", "Quotes", "Sales_Orders",
                 "Purchase_Orders", "Invoices", "Cases", "Solutions", "Appointments",
                 "Services"}


async def test_metadata(crm: Crm) -> None:
    assert {m["api_name"] for m in await crm.client.modules()} >= POLLING_READY
    stage = next(f for f in await crm.client.fields("Deals") if f["api_name"] == "Stage")
    assert stage["data_type"] == "picklist"
    assert "Closed Won" in [v["actual_value"] for v in stage["pick_list_values"]]
    assert (await crm.client.org())["zgid"]


async def test_paging_runs_past_the_discrete_limit(crm: Crm) -> None:
    for n in range(2050):
        crm.sim.store.insert("Products", {"Product_Name": f"P{n}"})
    names = [r["Product_Name"] async for r in crm.client.records("Products", ["Product_Name"])]
    assert len(names) == 2050 and len(set(names)) == 2050


async def test_modified_since_and_empty_modules(crm: Crm) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert [r async for r in crm.client.records("Deals", ["Deal_Name"], modified_since=later)] \
        == []
    assert [r async for r in crm.client.records("Vendors", ["Vendor_Name"])] == []
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    deals = [r async for r in crm.client.records("Deals", ["Deal_Name"], modified_since=earlier)]
    assert {d["Deal_Name"] for d in deals} == {"Acme renewal", "Globex expansion"}


async def test_batch_writes_report_per_record_results_in_order(crm: Crm) -> None:
    rows: list[dict[str, Any]] = [{"Subject": f"case {n}", "Status": "New"} for n in range(150)]
    rows[10] = {"Status": "New"}  # no Subject
    rows[120] = {"Subject": "x", "Bogus_Field": 1}
    results = await crm.client.insert("Cases", rows)
    assert len(results) == 150
    assert results[10].code == "MANDATORY_NOT_FOUND"
    assert results[10].details["api_name"] == "Subject"
    assert results[120].code == "INVALID_DATA"
    assert sum(r.ok for r in results) == 148
    first = results[0].id
    assert first is not None
    (updated,) = await crm.client.update("Cases", [{"id": first, "Status": "Closed"}])
    assert updated.ok and updated.message == "record updated"
    record = await crm.client.record("Cases", first)
    assert record is not None and record["Status"] == "Closed"
    (deleted,) = await crm.client.delete("Cases", [first])
    assert deleted.ok and await crm.client.record("Cases", first) is None


async def test_upsert_matches_duplicates(crm: Crm) -> None:
    (inserted,) = await crm.client.upsert("Leads", [{"Last_Name": "Turing",
                                                     "Email": "alan@example.com"}])
    (updated,) = await crm.client.upsert("Leads", [{"Last_Name": "Turing A.",
                                                    "Email": "alan@example.com"}])
    assert (inserted.action, updated.action) == ("insert", "update")
    assert inserted.id == updated.id


async def test_search(crm: Crm) -> None:
    found = await crm.client.search("Deals", criteria="(Stage:equals:Qualification)")
    assert [d["Deal_Name"] for d in found] == ["Acme renewal"]
    assert [d["Deal_Name"] for d in await crm.client.search("Deals", word="globex")] == [
        "Globex expansion"]
    assert await crm.client.search("Deals", word="nothing-like-this") == []
    with pytest.raises(ValueError, match="2 characters"):
        await crm.client.search("Deals", word="a")
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.search("Deals", criteria="Stage equals x")
    assert info.value.code == "INVALID_QUERY"


async def test_notes(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    note_id = await crm.client.add_note("Deals", deal, "Linked to Jira SUP-1", "Jira link")
    await crm.client.update_note(note_id, "Linked to Jira SUP-2")
    (note,) = await crm.client.notes("Deals", deal)
    assert (note["Note_Title"], note["Note_Content"]) == ("Jira link", "Linked to Jira SUP-2")
    await crm.client.delete_note(note_id)
    assert await crm.client.notes("Deals", deal) == []
    with pytest.raises(ZohoCrmError, match="MANDATORY_NOT_FOUND"):
        await crm.client.add_note("Deals", deal, "")


async def test_attachments_stream_with_cap(crm: Crm) -> None:
    case = next(iter(crm.sim.store.records["Cases"]))
    data = b"z" * 150_000
    attachment_id = await crm.client.upload_attachment("Cases", case, "trace.log",
                                                       lambda: io.BytesIO(data), size=len(data))
    (listed,) = await crm.client.attachments("Cases", case)
    assert (listed.id, listed.File_Name, listed.size) == (attachment_id, "trace.log", 150_000)
    body = b"".join([c async for c in crm.client.download_attachment("Cases", case, listed)])
    assert body == data
    with pytest.raises(ZohoCrmError, match="exceeds"):
        _ = [c async for c in crm.client.download_attachment("Cases", case, listed, cap=10)]
    with pytest.raises(ZohoCrmError, match="exceeds"):
        await crm.client.upload_attachment("Cases", case, "big", lambda: io.BytesIO(b""),
                                           size=10 * 1024 * 1024 + 1)
    await crm.client.delete_attachment("Cases", case, attachment_id)
    assert await crm.client.attachments("Cases", case) == []


async def test_stage_history_related_list(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    await crm.client.update("Deals", [{"id": deal, "Stage": "Closed Won"}])
    history = await crm.client.related("Deals", deal, "Stage_History")
    assert [row["Stage"] for row in history] == ["Closed Won", "Qualification"]
    assert await crm.client.related("Deals", deal, "Tasks") == []


async def test_notification_channel_posts_changes(crm: Crm, receiver) -> None:
    url, seen = receiver
    answer = await crm.client.watch("1000000068001", ["Deals.all"], url, "channel-token")
    assert answer["status"] == "success"
    (result,) = await crm.client.insert("Deals", [{"Deal_Name": "Watched deal"}])
    await crm.client.update("Cases", [{"id": next(iter(crm.sim.store.records["Cases"])),
                                       "Status": "Closed"}])  # not watched
    await crm.sim.settled()
    assert [(n["module"], n["operation"], n["ids"], n["token"]) for n in seen] == [
        ("Deals", "insert", [result.id], "channel-token")]
    assert [w["channel_id"] for w in await crm.client.watches()] == ["1000000068001"]
    await crm.client.renew_watch("1000000068001", datetime.now(UTC) + timedelta(days=6))
    await crm.client.unwatch(["1000000068001"])
    assert await crm.client.watches() == []


async def test_rate_limit_waits_and_recovers(crm: Crm) -> None:
    crm.sim.limits.credits = 0

    async def restore() -> None:
        await anyio.sleep(0.3)
        crm.sim.limits.credits = 100

    async with anyio.create_task_group() as group:
        group.start_soon(restore)
        assert await crm.client.record("Deals", "0") is None  # 429, pause, retry, 204


async def test_expired_access_token_refreshes_once(crm: Crm) -> None:
    await crm.client.org()
    hits = crm.accounts.refresh_hits
    crm.accounts.expire_access_tokens()  # the server rejects our still-"fresh" token
    assert (await crm.client.org())["company_name"]
    assert crm.accounts.refresh_hits == hits + 1


async def test_invalid_module_is_a_clear_error(crm: Crm) -> None:
    assert "Notes" not in MODULES
    with pytest.raises(ZohoCrmError) as info:
        _ = [r async for r in crm.client.records("Nope", ["Name"])]
    assert info.value.code == "INVALID_MODULE" and info.value.status == 400


async def test_evicted_access_token_is_replaced_by_one_refresh(crm: Crm) -> None:
    await crm.client.org()
    stored = await crm.oauth.stored()
    assert stored is not None
    for _ in range(crm.accounts.access_token_cap):  # Zoho deletes our (oldest) token
        crm.accounts.issue_access_token(stored.refresh_token)
    hits = crm.accounts.refresh_hits
    assert (await crm.client.org())["company_name"]
    assert crm.accounts.refresh_hits == hits + 1
