"""The CRM simulator's wire behaviour as raw HTTP sees it (what the official SDK and any
other client meet), plus our client's reaction to throttling, faults and lost access."""

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from actors.budget import RateBudget
from adapters.http import Outcome
from adapters.zoho.crm import ZohoCrmClient, ZohoCrmError
from adapters.zoho.oauth import ZohoAuthRequired
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.crm import ZohoCrmSimulator

from .conftest import Crm
from .conftest import raw_call as _call
from .conftest import raw_headers as _headers


async def test_list_requires_fields_and_caps_pages(crm: Crm) -> None:
    status, _, body = await _call(crm, "GET", "/crm/v8/Deals")
    assert status == 400 and body["code"] == "REQUIRED_PARAM_MISSING"
    assert body["details"] == {"param_name": "fields"}
    status, _, body = await _call(crm, "GET", "/crm/v8/Deals",
                                  params={"fields": "Deal_Name", "per_page": "500"})
    assert status == 200 and body["info"]["per_page"] == 200
    assert set(body["data"][0]) == {"id", "Deal_Name"}
    status, _, body = await _call(crm, "GET", "/crm/v8/Deals",
                                  params={"fields": "Deal_Name", "page": "11"})
    assert status == 400 and body["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    status, _, body = await _call(crm, "GET", "/crm/v8/Deals", params={
        "fields": "Deal_Name", "page": "1", "page_token": "pt00000000"})
    assert status == 400 and body["code"] == "AMBIGUITY_DURING_PROCESSING"


async def test_if_modified_since_answers_304(crm: Crm) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
    headers = {**_headers(crm), "If-Modified-Since": later}
    status, _, body = await _call(crm, "GET", "/crm/v8/Deals", headers=headers,
                                  params={"fields": "Deal_Name"})
    assert (status, body) == (304, None)


async def test_writes_parse_json_without_content_type(crm: Crm) -> None:
    status, _, body = await _call(crm, "POST", "/crm/v8/Leads",
                                  data=b'{"data":[{"Last_Name":"Curie"},{"Company":"x"}]}')
    assert status == 207
    created, missing = body["data"]
    assert created["code"] == "SUCCESS" and len(created["details"]["id"]) == 19
    assert missing["code"] == "MANDATORY_NOT_FOUND"
    status, _, body = await _call(crm, "POST", "/crm/v8/Leads",
                                  data=b'{"data":[{"Last_Name":"Curie"}]}')
    assert status == 201


async def test_ids_are_deterministic_19_digit_strings() -> None:
    first, second = (ZohoCrmSimulator(ZohoAccountsSimulator()) for _ in range(2))
    assert list(first.store.records["Deals"]) == list(second.store.records["Deals"])
    assert all(len(i) == 19 and i.isdigit() for i in first.store.records["Deals"])


async def test_scopes_and_tokens_are_checked(crm: Crm) -> None:
    status, _, body = await _call(crm, "GET", "/crm/v8/org", headers={})
    assert (status, body["code"]) == (401, "INVALID_TOKEN")
    projects_only = _headers(crm, ["ZohoProjects.tasks.ALL"])
    status, _, body = await _call(crm, "GET", "/crm/v8/org", headers=projects_only)
    assert (status, body["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


async def test_throttle_answers_429_with_retry_after(crm: Crm) -> None:
    status, _, limits = await _call(crm, "POST", "/_sim/limits",
                                    json={"credits": 0, "retry_after": 7})
    assert status == 200 and limits["credits"] == 0
    status, headers, body = await _call(crm, "GET", "/crm/v8/org")
    assert (status, headers["Retry-After"], body["code"]) == (429, "7", "TOO_MANY_REQUESTS")


async def test_concurrency_limit_and_a_budget_that_respects_it(crm: Crm) -> None:
    crm.sim.limits.update({"concurrency": 2})
    crm.sim.faults.latency = 0.05
    statuses: list[int] = []

    async def raw() -> None:
        statuses.append((await _call(crm, "GET", "/crm/v8/org"))[0])

    async with anyio.create_task_group() as group:
        for _ in range(6):
            group.start_soon(raw)
    assert sorted(set(statuses)) == [200, 429]
    refused = crm.sim.limits.refused
    budget = RateBudget("zoho-crm-2", rate=1000, burst=100, max_concurrent=2)
    client = ZohoCrmClient.connect(crm.url, crm.oauth, crm.session, budget)
    async with anyio.create_task_group() as group:
        for _ in range(6):
            group.start_soon(client.org)
    assert crm.sim.limits.refused == refused  # never more in flight than the org allows


async def test_transient_faults_are_retried_only_when_safe(crm: Crm) -> None:
    crm.sim.faults.burst_5xx = 1
    assert (await crm.client.org())["company_name"] == "Bridge Demo Inc."
    crm.sim.faults.burst_5xx = 1
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.insert("Leads", [{"Last_Name": "Once"}])
    assert info.value.outcome is Outcome.TRANSIENT and info.value.status == 503
    assert not any(r.get("Last_Name") == "Once" for r in crm.sim.store.records["Leads"].values())


async def test_missing_scope_needs_attention(crm: Crm) -> None:
    await crm.oauth.use_refresh_token(crm.accounts.issue_refresh_token(["ZohoProjects.tasks.ALL"]))
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.org()
    assert info.value.code == "OAUTH_SCOPE_MISMATCH" and info.value.needs_attention


async def test_revoked_connection_fails_fast_on_every_call(crm: Crm) -> None:
    await crm.client.org()
    stored = await crm.oauth.stored()
    assert stored is not None
    crm.accounts.revoke(stored.refresh_token)
    hits = crm.accounts.refresh_hits
    for _ in range(3):
        with pytest.raises(ZohoAuthRequired, match="authentication required"):
            await crm.client.org()
    assert crm.accounts.refresh_hits == hits  # one refused refresh, then nothing


async def test_related_tasks_and_bulk_delete(crm: Crm) -> None:
    deal = next(iter(crm.sim.store.records["Deals"]))
    (task,) = await crm.client.insert("Tasks", [{"Subject": "Call back",
                                                 "What_Id": {"id": deal}}])
    assert [t["id"] for t in await crm.client.related("Deals", deal, "Tasks")] == [task.id]
    with pytest.raises(ZohoCrmError) as info:
        await crm.client.related("Deals", deal, "Nonsense")
    assert info.value.code == "INVALID_URL_PATTERN"
    assert task.id is not None
    results = await crm.client.delete("Tasks", [task.id, "5551000000000099999"])
    assert [(r.ok, r.code) for r in results] == [(True, "SUCCESS"), (False, "INVALID_DATA")]


async def test_notification_expiry_and_query_params(crm: Crm, receiver) -> None:
    url, seen = receiver
    far = datetime.now(UTC) + timedelta(days=30)
    answer = await crm.client.watch("77", ["Leads.create"], f"{url}?secret=s1", "tok", far)
    expiry = datetime.fromisoformat(answer["details"]["events"][0]["channel_expiry"])
    assert expiry < datetime.now(UTC) + timedelta(hours=1, minutes=1)  # over a week → 1 h
    await crm.client.insert("Leads", [{"Last_Name": "Noether"}])
    await crm.client.update("Leads", [{"id": next(iter(crm.sim.store.records["Leads"])),
                                       "Lead_Status": "Qualified"}])  # edit: not watched
    await crm.sim.settled()
    assert [(n["operation"], n["query_params"], n["channel_id"]) for n in seen] == [
        ("insert", {"secret": "s1"}, "77")]
