"""Rate-limit headers on every answer, hidden e-mail addresses, dynamic webhook expiry."""

from adapters.jira.client import JiraClient

from .conftest import Jira, Receiver

ANN = "5b10ac8d82e05b22cc7d4ef5"
DAY = 24 * 3600


async def test_successful_answers_carry_rate_limit_headers(jira: Jira) -> None:
    _, _, first = await jira.raw("GET", "/rest/api/3/myself")
    _, _, second = await jira.raw("GET", "/rest/api/3/issue/SUP-1")
    assert first["X-RateLimit-Limit"] == second["X-RateLimit-Limit"] == "200"
    assert int(second["X-RateLimit-Remaining"]) < int(first["X-RateLimit-Remaining"]) < 200
    assert "Retry-After" not in second and "RateLimit-Reason" not in second


async def test_hidden_email_addresses_are_null(jira: Jira) -> None:
    assert (await jira.client.user(ANN))["emailAddress"] == "ann@example.com"
    status, _, _ = await jira.raw("POST", "/_sim/users",
                                  json={"accountId": ANN, "emailVisible": False})
    assert status == 200
    await jira.client.edit_issue("SUP-1", fields={"assignee": {"accountId": ANN}})
    user = await jira.client.user(ANN)
    assert user["emailAddress"] is None and user["displayName"] == "Ann Agent"
    assignee = (await jira.client.get_issue("SUP-1")).fields["assignee"]
    assert "emailAddress" in assignee and assignee["emailAddress"] is None
    assert (await jira.client.myself())["emailAddress"] == "bridge@example.com"


async def test_dynamic_webhooks_stop_after_30_days_unless_refreshed(jira: Jira,
                                                                    inbox: tuple[str, Receiver]
                                                                    ) -> None:
    url, target = inbox
    app = JiraClient.bearer(jira.url, jira.sim.oauth_token, jira.session)
    kept, lapsed = await app.register_dynamic_webhooks(url, [
        (["jira:issue_updated"], "project = SUP"), (["jira:issue_updated"], "project = ENG")])
    assert isinstance(kept, int) and isinstance(lapsed, int)
    jira.sim.clock.advance(20 * DAY)
    await app.refresh_dynamic_webhooks([kept])
    jira.sim.clock.advance(15 * DAY)  # 35 days after registration, 15 after the refresh
    assert [h["id"] for h in await app.dynamic_webhooks()] == [kept]
    await jira.client.edit_issue("SUP-1", fields={"summary": "still watched"})
    await jira.client.edit_issue("ENG-1", fields={"summary": "nobody listens"})
    await jira.sim.deliveries.settled()
    assert [p["issue"]["key"] for p in target.payloads()] == ["SUP-1"]
    await app.refresh_dynamic_webhooks([lapsed])  # too late: it is gone
    assert [h["id"] for h in await app.dynamic_webhooks()] == [kept]
    status, _, _ = await jira.raw("POST", "/_sim/clock", json={"advance": 31 * DAY})
    assert status == 200
    assert await app.dynamic_webhooks() == []
    status, _, _ = await jira.raw("POST", "/_sim/clock", json={"advance": -1})
    assert status == 400  # the clock never goes back
