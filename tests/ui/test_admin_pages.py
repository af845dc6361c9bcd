"""The admin pages in a real headless Chromium: sign-in, CSRF, connections, SCIs with
sync-now, history, dead-letter replay. Each main page is saved under docs/screenshots/."""

import re

from playwright.sync_api import Page, expect

from tests.api.harness import ADMIN, USER, LiveServer


def sign_in(page: Page, server: LiveServer, who: tuple[str, str] = ADMIN,
            start: str = "/admin/connections") -> None:
    page.goto(server.url + start)
    page.get_by_label("User name").fill(who[0])
    page.get_by_label("Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_lands_where_asked_and_sign_out_ends_it(page: Page, server: LiveServer,
                                                        screenshot) -> None:
    page.goto(server.url + "/admin/scis")
    expect(page).to_have_url(server.url + "/login?next=/admin/scis")
    screenshot(page, "login")
    sign_in(page, server, start="/admin/scis")
    expect(page).to_have_url(server.url + "/admin/scis")
    expect(page.get_by_role("heading", name="Smart Connected Items")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server.url + "/login")
    page.goto(server.url + "/admin/scis")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_is_refused_with_a_clear_message(page: Page, server: LiveServer) -> None:
    sign_in(page, server, who=(ADMIN[0], "not the password"))
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    expect(page.get_by_label("User name")).to_have_value(ADMIN[0])
    page.goto(server.url + "/admin/connections")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_user_role_cannot_open_admin_pages(page: Page, server: LiveServer) -> None:
    sign_in(page, server, who=USER, start="/")
    expect(page.get_by_role("heading", name=f"Signed in as {USER[0]}")).to_be_visible()
    response = page.goto(server.url + "/admin/dead-letters")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()


def test_a_form_without_the_session_csrf_token_is_refused(page: Page,
                                                          server: LiveServer) -> None:
    sign_in(page, server, start="/admin/dead-letters")
    row = page.locator("tr", has_text="Note_Content too long")
    row.locator("input[name=csrf_token]").first.evaluate("input => input.value = 'forged'")
    row.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
    assert server.runtime is not None
    assert len(server.call(server.runtime.store.list_dead_letters)) == 2
    # A request from elsewhere carries the cookie but cannot know the token.
    forged = page.request.post(server.url + "/admin/dead-letters/replay-all",
                               form={"sci": ""}, max_redirects=0)
    assert forged.status == 403
    assert len(server.call(server.runtime.store.list_dead_letters)) == 2


def test_connections_page_tests_a_connection(page: Page, server: LiveServer,
                                             screenshot) -> None:
    sign_in(page, server)
    jira = page.locator("#connection-jira")
    expect(jira.get_by_text("Not checked yet")).to_be_visible()
    jira.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status")).to_have_text("Jira Cloud: connection works.")
    expect(page.locator("#connection-jira .badge")).to_have_text("Connected")
    crm = page.locator("#connection-zoho-crm")
    expect(crm.locator(".badge")).to_have_text("Connected")
    expect(crm).to_contain_text("lacks 1 required scope(s): ZohoFiles.files.READ")
    projects = page.locator("#connection-zoho-projects")
    expect(projects.locator(".badge")).to_have_text("Not configured")
    assert projects.locator("textarea").input_value().startswith(
        "ZohoProjects.tasks.CREATE,ZohoProjects.tasks.UPDATE,")
    assert server.runtime is not None and server.runtime.config.zoho.crm is not None
    assert str.__str__(server.runtime.config.zoho.crm.client_secret) not in page.content()
    screenshot(page, "connections")


MANUAL_POLL = re.compile(r"^manual: \d+ changes? from Zoho$")


def test_scis_page_sync_now_then_history(page: Page, server: LiveServer, screenshot) -> None:
    sign_in(page, server, start="/admin/scis")
    row = page.locator("#sci-support-cases")
    expect(row).to_contain_text("two-way")
    expect(row).to_contain_text("rule: Status equals Escalated → In Progress, else To Do")
    expect(row.locator(".state")).to_have_text("running")
    expect(page.get_by_text("declared in the config file")).to_be_visible()
    screenshot(page, "scis")
    row.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("status")).to_have_text("support-cases: sync requested.")
    page.locator("#sci-support-cases").get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History of Support tasks ⇄ CRM cases")).to_be_visible()
    for _ in range(50):  # the actor records the manual poll within moments
        if page.get_by_text(MANUAL_POLL).count():
            break
        page.wait_for_timeout(100)
        page.reload()
    expect(page.get_by_text(MANUAL_POLL)).to_be_visible()
    screenshot(page, "history")
    page.get_by_label("errors only").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Zoho refused Priority 'Urgent'")


def test_dead_letters_replay_one_then_all(page: Page, server: LiveServer, screenshot) -> None:
    sign_in(page, server, start="/admin/dead-letters")
    expect(page.locator("tbody tr")).to_have_count(2)
    screenshot(page, "dead-letters")
    page.locator("tr", has_text="Note_Content too long").get_by_role(
        "button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text("is queued again")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Replay all 1").click()
    expect(page.get_by_role("status")).to_have_text("1 dead letter(s) queued again.")
    expect(page.get_by_role("heading", name="No dead letters")).to_be_visible()
    assert server.runtime is not None
    assert server.call(server.runtime.store.outbox_depth, "legacy-invoices") == 2


def test_zoho_projects_connects_from_the_form_and_revokes(page: Page, server: LiveServer,
                                                          screenshot) -> None:
    zoho = server.sims["zoho"]
    sign_in(page, server)
    card = page.locator("#connection-zoho-projects")

    def fill(code: str) -> None:
        card.get_by_label("Data center").select_option("EU")
        card.get_by_label("Client ID").fill(zoho["client_id"])
        card.get_by_label("Client Secret").fill(zoho["client_secret"])
        card.get_by_label("Code", exact=True).fill(code)
        if not card.get_by_label("Accounts server").is_visible():
            card.get_by_text("Other servers").click()
        card.get_by_label("Accounts server").fill(zoho["accounts_url"])
        card.get_by_label("API server").fill(zoho["projects_api_url"])

    fill("1000.not-a-real-code")
    screenshot(page, "connect-zoho")
    card.get_by_role("button", name="Connect Zoho Projects").click()
    card = page.locator("#connection-zoho-projects")
    expect(card.get_by_role("alert")).to_contain_text("Zoho refused the grant code")
    expect(card.get_by_label("Client ID")).to_have_value(zoho["client_id"])
    assert zoho["client_secret"] not in page.content()

    code = page.request.post(zoho["accounts_url"] + "/_sim/grant-code").json()["code"]
    fill(code)
    card.get_by_role("button", name="Connect Zoho Projects").click()
    expect(page.get_by_role("status")).to_have_text(
        "Zoho Projects is connected (EU data center).")
    card = page.locator("#connection-zoho-projects")
    expect(card.locator(".badge")).to_have_text("Connected")
    expect(card).to_contain_text("the admin UI")
    card.get_by_role("button", name="Revoke connection").click()
    expect(page.get_by_role("status")).to_contain_text("SCIs and links are kept")
    expect(page.locator("#connection-zoho-projects .badge")).to_have_text("Not configured")
