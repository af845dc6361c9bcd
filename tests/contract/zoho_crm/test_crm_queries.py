"""Deleted records, COQL, counts and datetime search: the simulator on the wire and our
client on top of it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.zoho.crm import ZohoCrmError, parse_zoho_time

from .conftest import Crm, raw_call


async def test_deleted_is_a_listing_not_a_record_id(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    await crm.client.delete("Deals", [deal])
    status, _, body = await raw_call(crm, "GET", "/crm/v8/Deals/deleted")
    assert status == 200
    (entry,) = body["data"]
    assert entry["id"] == deal and entry["type"] == "recycle"
    assert entry["display_name"] == "Acme renewal"
    assert set(entry) >= {"deleted_by", "created_by", "deleted_time"}
    assert entry["deleted_time"].endswith("-07:00")
    assert body["info"]["more_records"] is False
    status, _, _ = await raw_call(crm, "GET", "/crm/v8/Deals/deleted",
                                  params={"type": "permanent"})
    assert status == 204
    status, _, body = await raw_call(crm, "GET", "/crm/v8/Deals/deleted",
                                     params={"type": "sometimes"})
    assert (status, body["code"]) == (400, "INVALID_DATA")


async def test_deleted_pages_and_filters_by_kind_and_moment(crm: Crm) -> None:
    ids = [str(r.id) for r in await crm.client.insert(
        "Products", [{"Product_Name": f"P{n}"} for n in range(5)])]
    await crm.client.delete("Products", ids[:3])
    crm.clock.advance(60)
    middle = datetime.fromtimestamp(crm.clock.now, UTC)
    crm.clock.advance(60)
    await crm.client.delete("Products", ids[3:])
    crm.sim.store.purge("Products", ids[4])
    status, _, body = await raw_call(crm, "GET", "/crm/v8/Products/deleted",
                                     params={"per_page": "2", "page": "1"})
    assert status == 200 and len(body["data"]) == 2 and body["info"]["more_records"]

    everything = await crm.client.deleted("Products")
    assert sorted(d.id for d in everything) == sorted(ids)
    assert all(d.deleted_time.tzinfo is not None for d in everything)
    assert [d.id for d in await crm.client.deleted("Products", kind="permanent")] == [ids[4]]
    assert {d.id for d in await crm.client.deleted("Products", kind="recycle")} == \
        set(ids[:4])
    assert {d.id for d in await crm.client.deleted("Products", since=middle)} == set(ids[3:])
    later = datetime.fromtimestamp(crm.clock.now, UTC) + timedelta(minutes=1)
    assert await crm.client.deleted("Products", since=later) == []  # 304


async def test_count(crm: Crm) -> None:
    status, _, body = await raw_call(crm, "GET", "/crm/v8/Deals/actions/count")
    assert (status, body) == (200, {"count": 2})
    await crm.client.insert("Deals", [{"Deal_Name": "Third"}])
    assert await crm.client.count("Deals") == 3
    assert await crm.client.count("Vendors") == 0
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.count("Nope")
    assert info.value.code == "INVALID_MODULE"


async def _coql(crm: Crm, query: str) -> tuple[int, Any]:
    status, _, body = await raw_call(crm, "POST", "/crm/v8/coql",
                                     json={"select_query": query})
    return status, body


async def test_coql_selects_filters_orders_and_pages(crm: Crm) -> None:
    rows = [{"Deal_Name": f"D{n}", "Amount": float(n * 100), "Stage": "Qualification"}
            for n in range(6)]
    rows[2]["Stage"] = "Closed Won"
    await crm.client.insert("Deals", rows)
    status, body = await _coql(
        crm, "select Deal_Name, Amount from Deals where (Amount >= 100 and Amount < 500) "
             "and Stage != 'Closed Won' order by Amount desc limit 0, 2")
    assert status == 200
    assert [(r["Deal_Name"], r["Amount"]) for r in body["data"]] == [("D4", 400.0),
                                                                      ("D3", 300.0)]
    assert set(body["data"][0]) == {"Deal_Name", "Amount", "id"}
    assert body["info"] == {"count": 2, "more_records": True}
    status, body = await _coql(
        crm, "select Deal_Name from Deals where Amount between 100 and 200 or "
             "Deal_Name = 'Acme renewal' order by Deal_Name asc limit 10 offset 0")
    assert [r["Deal_Name"] for r in body["data"]] == ["Acme renewal", "D1", "D2"]
    status, body = await _coql(crm, "select Deal_Name from Deals where Closing_Date is null "
                                    "and Amount is not null order by Amount limit 1 offset 1")
    assert [r["Deal_Name"] for r in body["data"]] == ["D1"]
    status, body = await _coql(crm, "select Deal_Name from Deals where Deal_Name = 'none'")
    assert (status, body) == (204, None)


async def test_coql_compares_datetimes_as_instants(crm: Crm) -> None:
    (old,) = await crm.client.insert("Leads", [{"Last_Name": "Early"}])
    crm.clock.advance(120)
    (new,) = await crm.client.insert("Leads", [{"Last_Name": "Late"}])
    boundary = datetime.fromtimestamp(crm.clock.now - 60, UTC)
    # the org writes -07:00; the literal is in +05:30 — same instant rules
    literal = boundary.astimezone(parse_zoho_time("2026-01-01T00:00:00+05:30").tzinfo)
    status, body = await _coql(crm, f"select Last_Name from Leads where Modified_Time > "
                                    f"'{literal.isoformat()}'")
    assert status == 200 and [r["id"] for r in body["data"]] == [new.id]
    status, body = await _coql(crm, f"select Last_Name from Leads where Created_Time <= "
                                    f"'{literal.isoformat()}' and Last_Name = 'early'")
    assert [r["id"] for r in body["data"]] == [old.id]


@pytest.mark.parametrize(("query", "code"), [
    ("select Deal_Name from Deals", "SYNTAX_ERROR"),  # where is mandatory
    ("select Deal_Name from Deals where", "SYNTAX_ERROR"),
    ("select Nope from Deals where Deal_Name is not null", "INVALID_QUERY"),
    ("select Deal_Name from Nowhere where id is not null", "INVALID_QUERY"),
    ("select Deal_Name from Deals where Amount > 'lots'", "INVALID_QUERY"),
    ("select Deal_Name from Deals where id is not null limit 2001", "LIMIT_EXCEEDED"),
    ("select Deal_Name from Deals where id is not null limit 99999, 2000", "LIMIT_EXCEEDED"),
    ("delete from Deals where id is not null", "SYNTAX_ERROR"),
])
async def test_coql_refuses_bad_queries(crm: Crm, query: str, code: str) -> None:
    status, body = await _coql(crm, query)
    assert status == 400 and body is not None and body["code"] == code


async def test_client_coql_pages_with_limit_and_offset(crm: Crm) -> None:
    for n in range(4500):
        crm.sim.store.insert("Products", {"Product_Name": f"P{n:04d}", "Unit_Price": 1.0})
    rows = await crm.client.coql("select Product_Name from Products where Unit_Price = 1")
    assert len(rows) == 4500 and len({r["id"] for r in rows}) == 4500
    assert await crm.client.coql("select Product_Name from Products where "
                                 "Product_Name = 'none'") == []
    with pytest.raises(ValueError, match="LIMIT"):
        await crm.client.coql("select Product_Name from Products where id is not null "
                              "limit 5")
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.coql("select Product_Name from Products")
    assert info.value.code == "SYNTAX_ERROR"


async def test_search_compares_datetimes(crm: Crm) -> None:
    (early,) = await crm.client.insert("Calls", [{"Subject": "early",
                                                  "Call_Start_Time": "2026-03-01T09:00:00+01:00"}])
    (late,) = await crm.client.insert("Calls", [{"Subject": "late",
                                                 "Call_Start_Time": "2026-03-01T09:00:00-05:00"}])
    found = await crm.client.search(
        "Calls", criteria="(Call_Start_Time:greater_than:2026-03-01T12:00:00+00:00)")
    assert [c["id"] for c in found] == [late.id]
    found = await crm.client.search(
        "Calls", criteria="(Call_Start_Time:less_than:2026-03-01T12:00:00+00:00)")
    assert [c["id"] for c in found] == [early.id]
    found = await crm.client.search("Calls", criteria=(
        "(Call_Start_Time:between:2026-03-01T07:00:00+00:00,2026-03-01T15:00:00+00:00)"))
    assert {c["id"] for c in found} == {early.id, late.id}
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.search("Calls", criteria="(Subject:greater_than:a)")
    assert info.value.code == "INVALID_QUERY"


async def test_search_index_lags_writes_when_switched_on(crm: Crm) -> None:
    status, _, settings = await raw_call(crm, "POST", "/_sim/settings",
                                         json={"search_delay": 5})
    assert status == 200 and settings["search_delay"] == 5
    (lead,) = await crm.client.insert("Leads", [{"Last_Name": "Fresh"}])
    assert await crm.client.search("Leads", word="fresh") == []  # not indexed yet
    assert lead.id is not None
    assert await crm.client.record("Leads", lead.id) is not None  # reads are immediate
    coql = await crm.client.coql("select Last_Name from Leads where Last_Name = 'Fresh'")
    assert [r["id"] for r in coql] == [lead.id]  # COQL reads what was just written
    crm.clock.advance(5)
    assert [r["id"] for r in await crm.client.search("Leads", word="fresh")] == [lead.id]
    await crm.client.update("Leads", [{"id": lead.id, "Last_Name": "Renamed"}])
    await crm.client.delete("Leads", [next(i for i in crm.sim.store.records["Leads"]
                                           if i != lead.id)])
    assert [r["id"] for r in await crm.client.search("Leads", word="fresh")] == [lead.id]
    assert await crm.client.search("Leads", word="renamed") == []
    assert [r["Last_Name"] for r in await crm.client.search("Leads", word="lovelace")] == \
        ["Lovelace"]  # deleted, still found until the index catches up
    crm.clock.advance(5)
    assert await crm.client.search("Leads", word="fresh") == []
    assert await crm.client.search("Leads", word="lovelace") == []
    assert [r["id"] for r in await crm.client.search("Leads", word="renamed")] == [lead.id]


async def test_search_is_immediate_by_default(crm: Crm) -> None:
    (lead,) = await crm.client.insert("Leads", [{"Last_Name": "Instant"}])
    assert [r["id"] for r in await crm.client.search("Leads", word="instant")] == [lead.id]
