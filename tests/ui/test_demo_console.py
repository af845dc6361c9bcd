"""The demo's simulator console in a real headless Chromium: an edit of a Zoho Projects task
made in the browser reaches the linked Jira issue. Saved as docs/screenshots/demo-console.png."""

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from bridge.demo_scenario import TASKS
from tests.daemon.demo_process import DemoProcess, free_port, until


def test_a_console_edit_of_a_projects_task_reaches_its_jira_issue(page: Page, tmp_path: Path,
                                                                  screenshot) -> None:
    with DemoProcess(tmp_path, free_port()) as demo:
        until(lambda: demo.cli("dead-letters") or None, timeout=60)  # the scenario is seeded
        page.goto(demo.console + "/")
        expect(page.get_by_role("heading", name="Simulator console")).to_be_visible()
        tasks = page.locator("section", has=page.get_by_role("heading", name="Zoho Projects"))
        row = tasks.locator("tr", has=page.locator(f"input[value='{TASKS[0]}']"))
        linked = row.locator("td").last.inner_text().strip()
        assert re.fullmatch(r"ENG-\d+", linked)
        row.get_by_role("textbox").fill("Offline mode for orders and invoices")
        row.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text(f"watch {linked} in the admin UI")
        until(lambda: demo.jira_summary(linked) == "Offline mode for orders and invoices",
              timeout=20)
        page.reload()
        expect(page.get_by_label(f"Summary of {linked}")).to_have_value(
            "Offline mode for orders and invoices")
        screenshot(page, "demo-console")
        assert demo.stop() == 0
