"""The issue panel in a real headless Chromium, signed in with the user role: search, link,
the linked card, refresh, unlink; auto-managed links are read-only; auth trouble is named."""

import re
import time

from playwright.sync_api import Page, expect

from bridge.store import Link, UnitOfWork
from tests.api.harness import USER, LiveServer
from tests.ui.test_admin_pages import sign_in

SCI = "Support tasks ⇄ CRM cases"


def open_panel(page: Page, server: LiveServer, key: str = "SUP-1") -> None:
    sign_in(page, server, who=USER, start=f"/panel/{key}")
    expect(page).to_have_url(f"{server.url}/panel/{key}")


def search(page: Page, text: str) -> None:
    card = page.get_by_role("article", name=SCI)
    card.get_by_label("Link a Zoho CRM record").fill(text)
    card.get_by_role("button", name="Search").click()


def test_search_link_refresh_unlink(page: Page, server: LiveServer, screenshot) -> None:
    open_panel(page, server)
    expect(page.get_by_role("heading", name="SUP-1 · Customer cannot export invoices")
           ).to_be_visible()
    expect(page.get_by_role("article", name=SCI).locator(".mode")).to_have_text("two-way")
    expect(page.get_by_text("No Zoho record is linked to SUP-1 yet.")).to_be_visible()

    search(page, "invoices")
    result = page.locator("ul.results li", has_text="Invoices fail to export")
    expect(result).to_contain_text("Priority: High")
    record_id = result.locator("code").inner_text()
    result.get_by_role("button", name="Link").click()

    expect(page.get_by_role("status")).to_have_text(
        f"Linked Zoho record {record_id} ({SCI}).")
    card = page.get_by_role("article", name=f"Linked record {record_id}")
    expect(card.get_by_role("heading", name="Invoices fail to export")).to_be_visible()
    expect(card.locator(".badge")).to_have_text("Synced")
    expect(card).to_contain_text("Priority")
    expect(card.get_by_role("link", name="Open in Zoho")).to_have_attribute(
        "href", re.compile(rf"/crm/tab/Cases/{record_id}$"))
    search(page, "es")  # the screenshot shows a card and a search together
    expect(page.locator("ul.results li", has_text=record_id).locator(".badge")
           ).to_have_text("Linked")
    other = page.locator("ul.results li", has_text="Password reset loop")
    expect(other.get_by_role("button", name="Link")).to_be_visible()
    screenshot(page, "panel")

    card = page.get_by_role("article", name=f"Linked record {record_id}")
    card.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Refreshed Zoho record {record_id}: in sync.")
    page.get_by_role("article", name=f"Linked record {record_id}").get_by_role(
        "button", name="Unlink").click()
    expect(page.get_by_role("status")).to_have_text(
        f"SUP-1 is no longer linked to Zoho record {record_id}.")
    expect(page.get_by_text("No Zoho record is linked to SUP-1 yet.")).to_be_visible()
    assert server.runtime is not None
    assert server.call(server.runtime.store.list_links, "support-cases") == []


def test_auto_managed_link_is_read_only(page: Page, server: LiveServer) -> None:
    assert server.runtime is not None
    store = server.runtime.store
    auto = Link(id="auto-1", sci_id="support-cases", jira_issue_id="10001",
                jira_issue_key="SUP-2", zoho_record_id="5725767000000000001", origin="auto",
                created_at=time.time())
    server.call(store.commit, UnitOfWork(sci_id="support-cases", new_links=[auto]))
    open_panel(page, server, "SUP-2")
    card = page.get_by_role("article", name="Linked record 5725767000000000001")
    expect(card).to_contain_text("Auto-managed link: read-only here.")
    expect(card.get_by_role("button", name="Unlink")).to_have_count(0)
    expect(card.get_by_role("button", name="Refresh")).to_be_visible()
    # A forged unlink is refused by the same operation the API uses.
    csrf = card.locator("input[name=csrf_token]").first.input_value()
    page.request.post(f"{server.url}/panel/SUP-2/links/auto-1/unlink",
                      form={"csrf_token": csrf})
    assert server.call(store.get_link, "auto-1") is not None


def test_short_search_and_auth_trouble_are_explained(page: Page, server: LiveServer) -> None:
    open_panel(page, server)
    page.goto(f"{server.url}/panel/SUP-1?sci=support-cases&q=a")
    expect(page.get_by_text("type at least 2 characters to search")).to_be_visible()
    assert server.runtime is not None
    server.runtime.connection_problems["zoho.crm"] = (
        "Zoho CRM 401 INVALID_TOKEN: invalid oauth token")
    page.reload()
    expect(page.get_by_role("article", name=SCI).get_by_role("alert")).to_contain_text(
        "Zoho CRM authentication required")


def test_unknown_issue_and_home_lookup(page: Page, server: LiveServer) -> None:
    sign_in(page, server, who=USER, start="/")
    page.get_by_label("Open the issue panel of").fill("eng-1")
    page.get_by_role("button", name="Open").click()
    expect(page).to_have_url(f"{server.url}/panel/ENG-1")
    expect(page.get_by_role("article", name="Engineering ⇄ Deals").locator(".mode")
           ).to_have_text("display")
    response = page.goto(f"{server.url}/panel/SUP-999")
    assert response is not None and response.status == 404
    expect(page.get_by_text("no Jira issue SUP-999")).to_be_visible()


def test_associated_records_expand_with_open_links(page: Page, server: LiveServer,
                                                   screenshot) -> None:
    open_panel(page, server, "ENG-1")
    card = page.get_by_role("article", name="Engineering ⇄ Deals")
    card.get_by_label("Link a Zoho CRM record").fill("acme")
    card.get_by_role("button", name="Search").click()
    result = page.locator("ul.results li", has_text="Acme renewal")
    record_id = result.locator("code").inner_text()
    result.get_by_role("button", name="Link").click()

    linked = page.get_by_role("article", name=f"Linked record {record_id}")
    groups = linked.get_by_role("region", name="Associated records")
    history = groups.locator("details", has_text="Stage History (1)")
    expect(history.get_by_text("Qualification")).to_be_hidden()
    history.locator("summary").click()
    expect(history.get_by_text("Qualification")).to_be_visible()
    expect(history.get_by_role("link", name="Open")).to_have_attribute(
        "href", re.compile(rf"/crm/tab/Deals/{record_id}$"))
    empty = groups.locator("details", has_text="Attachments (0)")
    empty.locator("summary").click()
    expect(empty.get_by_text("No related records")).to_be_visible()
    screenshot(page, "panel-associated")


def test_search_as_you_type_after_two_characters(page: Page, server: LiveServer) -> None:
    open_panel(page, server)
    field = page.get_by_role("article", name=SCI).get_by_label("Link a Zoho CRM record")
    field.press_sequentially("i")
    page.wait_for_timeout(600)
    expect(page.locator("ul.results")).to_have_count(0)  # one character: nothing asked
    field.press_sequentially("nvoices", delay=40)
    result = page.locator("ul.results li", has_text="Invoices fail to export")
    expect(result).to_be_visible()  # no button pressed, no page load
    expect(field).to_be_focused()
    expect(page).to_have_url(re.compile(r"[?&]q=invoices"))
    result.get_by_role("button", name="Link").click()
    expect(page.get_by_role("status")).to_contain_text("Linked Zoho record")
