"""Zoho CRM connected from the admin UI in both modes, and what the issue panel shows for
each: Providers mode asks each person to sign in to Zoho CRM (the simulator's consent page
approves at once) and then searches and links with their own token; App OAuth 2.0 runs the
sync; an unconnected CRM says authentication is required."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bridge.connections import user_record
from tests.api.harness import ADMIN, USER, LiveServer
from tests.ui.test_admin_pages import sign_in
from tests.ui.test_panel import SCI, search


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[LiveServer]:
    """The daemon with no [zoho.crm] in its config file: an admin connects it in the UI."""
    with LiveServer(tmp_path, zoho_crm=False) as live:
        yield live


def connect_crm(page: Page, server: LiveServer, mode: str, code: str = "") -> None:
    zoho = server.sims["zoho"]
    page.goto(server.url + "/admin/connections")
    card = page.locator("#connection-zoho-crm")
    if card.get_by_text("Switch mode or reconnect").is_visible():
        card.get_by_text("Switch mode or reconnect").click()
    card.get_by_label(mode).check()
    card.get_by_label("Client ID").fill(zoho["client_id"])
    card.get_by_label("Client Secret").fill(zoho["client_secret"])
    card.get_by_label("Code", exact=True).fill(code)
    card.get_by_text("Other servers").click()
    card.get_by_label("Accounts server").fill(zoho["accounts_url"])
    card.get_by_label("API server").fill(zoho["crm_api_url"])
    card.get_by_role("button", name="Connect Zoho CRM").click()
    expect(page.get_by_role("status")).to_have_text("Zoho CRM is connected (US data center).")


def test_providers_then_app_mode_as_the_panel_sees_them(page: Page, bare: LiveServer,
                                                        screenshot) -> None:
    assert bare.runtime is not None
    sign_in(page, bare, who=USER, start="/panel/SUP-1")
    card = page.get_by_role("article", name=SCI)
    expect(card.get_by_role("alert")).to_contain_text("Zoho CRM authentication required")

    admin = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    sign_in(admin, bare, who=ADMIN)
    connect_crm(admin, bare, "Providers")
    crm = admin.locator("#connection-zoho-crm")
    expect(crm).to_contain_text("Providers (per-user sign-in)")
    expect(crm).to_contain_text("off: each person signs in from the issue panel")
    admin.goto(bare.url + "/admin/scis")
    expect(admin.locator("#sci-support-cases")).to_contain_text("Providers mode")
    assert bare.runtime.supervisor.info("support-cases") is None  # no background automation

    page.reload()
    login = page.get_by_role("region", name="Zoho CRM login required")
    expect(login).to_be_visible()
    screenshot(page, "panel-login-required")
    login.get_by_role("link", name="Sign in to Zoho CRM").click()
    expect(page).to_have_url(bare.url + "/panel/SUP-1")
    search(page, "invoices")
    result = page.locator("ul.results li", has_text="Invoices fail to export")
    record_id = result.locator("code").inner_text()
    result.get_by_role("button", name="Link").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Linked Zoho record {record_id} ({SCI}).")
    people = bare.call(bare.runtime.store.get_connection, user_record("zoho.crm", USER[0]))
    assert people is not None and people.secrets["refresh_token"]

    code = admin.request.post(bare.sims["zoho"]["accounts_url"] + "/_sim/grant-code").json()
    connect_crm(admin, bare, "App OAuth 2.0", code["code"])
    expect(admin.locator("#connection-zoho-crm")).to_contain_text("App OAuth 2.0")
    assert bare.call(bare.runtime.store.get_connection,
                     user_record("zoho.crm", USER[0])) is None  # switching clears sign-ins
    assert bare.runtime.supervisor.info("support-cases") is not None
    page.reload()
    expect(page.get_by_role("region", name="Zoho CRM login required")).to_have_count(0)
    expect(page.get_by_role("article", name=f"Linked record {record_id}")).to_be_visible()
