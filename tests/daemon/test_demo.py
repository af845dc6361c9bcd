import base64
import json
from pathlib import Path
from typing import Any

from bridge.demo_scenario import CASES, CONFLICT_EDITS
from tests.daemon.demo_process import DemoProcess, fetch, until


def test_demo_receives_changes_made_in_the_simulated_jira(tmp_path: Path, free_port) -> None:
    with DemoProcess(tmp_path, free_port()) as demo:
        until(lambda: fetch(demo.daemon + "/readyz")[0] == 200)
        ready = json.loads(fetch(demo.daemon + "/readyz")[1])
        assert {a["id"] for a in ready["actors"]} == {"support-cases", "mobile-tasks",
                                                      "mobile-issues", "engineering-deals"}
        token = base64.b64encode(b"bridge@example.com:sim-jira-api-token").decode()
        status, _ = fetch(f"{demo.jira}/rest/api/3/issue/SUP-1", method="PUT",
                          data=b'{"fields": {"summary": "Printer fixed"}}',
                          headers={"Authorization": f"Basic {token}",
                                   "Content-Type": "application/json"})
        assert status == 204
        accepted = 'bridge_webhook_events_total{result="accepted",source="jira"}'
        until(lambda: accepted in fetch(demo.daemon + "/metrics")[1].decode())
        assert demo.stop() == 0
        assert any("Zoho ⇄ Jira bridge demo" in line for line in demo.banner)


def test_demo_seeds_a_conflict_and_a_dead_letter_and_console_edits_flow(
        tmp_path: Path, free_port) -> None:
    with DemoProcess(tmp_path, free_port()) as demo:
        letters = until(lambda: demo.cli("dead-letters") or None, timeout=60)
        (letter,) = letters
        assert letter["sci_id"] == "support-cases"
        assert "Priority" in letter["reason"] and "INVALID_DATA" in letter["reason"]
        def conflict_recorded() -> list[dict[str, Any]] | None:
            entries = demo.cli("history", "support-cases")
            return entries if any("summary changed on both sides" in e["summary"]
                                  for e in entries) else None
        history = until(conflict_recorded, timeout=30)
        rows = demo.console_rows()
        cases = {r["linked"]: r["title"] for r in rows if r["system"] == "crm"}
        issues = {r["label"]: r["title"] for r in rows if r["system"] == "jira"}
        (key,) = [key for key, title in cases.items() if title in CONFLICT_EDITS]
        assert issues[key] == cases[key]  # the winner's summary is on both sides
        assert any("attachment checkout-totals.csv copied" in e["summary"] for e in history)
        assert any("zoho comment" in e["summary"] and "copied" in e["summary"]
                   for e in history)

        subject = CASES["comments"]["Subject"]
        (case,) = [r for r in demo.console_rows() if r["system"] == "crm"
                   and r["title"] == subject]
        assert case["linked"].startswith("SUP-")
        page = demo.console_edit(case, "Prices follow the billing country again")
        assert f"watch {case['linked']} in the" in page
        until(lambda: demo.jira_summary(case["linked"])
              == "Prices follow the billing country again", timeout=15)
        assert demo.stop() == 0
