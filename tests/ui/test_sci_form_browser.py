"""The SCI form in a real headless Chromium with its static script: an SCI of each mode
made through live pickers, a validation message at the wrong input, then edit, pause,
resume and delete from the SCIs list. The two-way form is saved as sci-form.png."""

from playwright.sync_api import Locator, Page, expect

from bridge.admin import sci_edits
from tests.api.harness import LiveServer
from tests.ui.test_admin_pages import sign_in


def field(page: Page, name: str) -> Locator:
    return page.locator(f'[name="{name}"]')


def choose(page: Page, name: str, value: str | list[str]) -> None:
    """Pick in a select that re-renders the form (forms.js submits "Update choices")."""
    with page.expect_navigation():
        field(page, name).select_option(value)


def start(page: Page, server: LiveServer, title: str) -> None:
    sign_in(page, server, start="/admin/scis")
    page.get_by_role("link", name="New SCI").click()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=f"New {title} SCI")).to_be_visible()


def create(page: Page, name: str) -> None:
    page.get_by_role("button", name="Create SCI").click()
    expect(page.get_by_role("status")).to_have_text(f"SCI {name} created.")


def test_a_two_way_sci_made_with_live_choices(page: Page, server: LiveServer,
                                              screenshot) -> None:
    start(page, server, "Two-way")
    field(page, "id").fill("sup-cases")
    field(page, "name").fill("Support ⇄ Cases")
    choose(page, "jira_projects", "SUP")
    choose(page, "jira_issue_type", "Task")
    choose(page, "zoho.module", "Cases")
    field(page, "mappings[0].jira").select_option("summary")
    field(page, "mappings[0].zoho").select_option("Subject")
    page.get_by_role("button", name="Add row").click()
    expect(field(page, "mappings[1].jira")).to_be_visible()
    expect(field(page, "mappings[0].zoho")).to_have_value("Subject")  # kept on re-render
    field(page, "mappings[1].jira").select_option("priority")
    field(page, "mappings[1].zoho").select_option("Priority")
    choose(page, "rule.field", "Status")
    field(page, "rule.operator").select_option("equals")
    field(page, "rule.value").select_option("Escalated")  # the picklist's values
    field(page, "rule.status_when_met").select_option("In Progress")
    field(page, "rule.status_when_not_met").select_option("To Do")
    page.get_by_label("Sync comments").check()
    expect(page.locator("th", has_text="Owner")).to_have_count(0)
    screenshot(page, "sci-form")
    create(page, "Support ⇄ Cases")
    row = page.locator("#sci-sup-cases")
    expect(row).to_contain_text("2 mappings")
    expect(row).to_contain_text("rule: Status equals Escalated → In Progress, else To Do")
    assert server.runtime is not None
    made = server.runtime.managed["sup-cases"]
    assert made.comments and [m.zoho for m in made.mappings] == ["Subject", "Priority"]


def test_custom_mode_has_an_owner_column_and_errors_show_at_their_input(
        page: Page, server: LiveServer) -> None:
    start(page, server, "Custom")
    field(page, "id").fill("eng-deals")
    field(page, "name").fill("Engineering deals")
    choose(page, "jira_projects", "ENG")
    choose(page, "jira_issue_type", "Task")
    choose(page, "zoho.module", "Deals")
    field(page, "mappings[0].jira").select_option("summary")
    field(page, "mappings[0].zoho").select_option("Deal_Name")
    field(page, "mappings[0].owner").select_option("jira")
    page.get_by_label("Sync the status").check()
    page.get_by_role("button", name="Create SCI").click()
    message = page.locator('.field-error[data-for="status_field"]')
    expect(message).to_contain_text("status_sync needs status_field")
    expect(page.get_by_role("alert")).to_contain_text("status_sync needs status_field")
    expect(field(page, "mappings[0].owner")).to_have_value("jira")  # values kept
    field(page, "status_field").select_option("Stage")
    create(page, "Engineering deals")
    assert server.runtime is not None
    made = server.runtime.managed["eng-deals"]
    assert made.mappings[0].owner == "jira" and made.status_field == "Stage"


def test_display_and_one_way_scis(page: Page, server: LiveServer) -> None:
    start(page, server, "Display")
    field(page, "id").fill("deal-preview")
    field(page, "name").fill("Deal preview")
    field(page, "jira_projects").select_option(["ENG", "SUP"])
    choose(page, "zoho.module", "Deals")
    field(page, "preview_fields").select_option(["Deal_Name", "Stage"])
    page.get_by_label("Show associated records").check()
    create(page, "Deal preview")
    page.get_by_role("link", name="New SCI").click()
    page.get_by_role("link", name="One-way").click()
    field(page, "id").fill("lead-feed")
    field(page, "name").fill("Lead feed")
    choose(page, "jira_projects", "SUP")
    choose(page, "jira_issue_type", "Bug")
    choose(page, "zoho.module", "Leads")
    field(page, "mappings[0].jira").select_option("summary")
    field(page, "mappings[0].zoho").select_option("Last_Name")
    page.get_by_label("Auto-create").check()
    create(page, "Lead feed")
    assert server.runtime is not None
    managed = server.runtime.managed
    assert managed["deal-preview"].jira_projects == ["ENG", "SUP"]
    assert managed["deal-preview"].preview_fields == ["Deal_Name", "Stage"]
    assert managed["lead-feed"].mode == "one_way" and managed["lead-feed"].auto_create


def test_edit_pause_resume_and_delete(page: Page, server: LiveServer) -> None:
    assert server.runtime is not None
    server.call(sci_edits.create_sci, server.runtime, {
        "id": "ops-cases", "name": "Ops cases", "mode": "two_way", "jira_projects": ["SUP"],
        "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"},
        "status_map": {"Escalated": "In Progress"}})
    sign_in(page, server, start="/admin/scis")
    row = page.locator("#sci-ops-cases")
    row.get_by_role("link", name="Edit").click()
    expect(field(page, "id")).to_have_value("ops-cases")
    field(page, "name").fill("Ops cases (renamed)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("SCI Ops cases (renamed) saved.")
    edited = server.runtime.managed["ops-cases"]
    assert edited.name == "Ops cases (renamed)" and edited.status_map  # kept, not on the form

    row.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status")).to_have_text("SCI Ops cases (renamed) paused.")
    expect(row).to_contain_text("disabled")
    row.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_have_text("SCI Ops cases (renamed) resumed.")
    row.get_by_text("Delete…").click()
    row.get_by_label("remove its links").check()
    row.get_by_role("button", name="Delete SCI").click()
    expect(page.get_by_role("status")).to_have_text(
        "SCI ops-cases deleted; its links were removed.")
    expect(page.locator("#sci-ops-cases")).to_have_count(0)
    expect(page.locator("#sci-support-cases").get_by_role("link", name="Edit")).to_have_count(0)
