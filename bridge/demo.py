"""``bridge demo``: the daemon wired to the built-in simulators with sample data.

The simulated Jira gets the daemon's webhook registered automatically, so a change made
in it (with curl, or the official clients) arrives signed and shows up in the SCI's
history and metrics within a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from adapters.jira.simulator import JiraSimulator
from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge.admin.passwords import hash_password
from bridge.daemon import Daemon
from bridge.sandbox import Sandbox, Served

DEMO_SCIS = """
[[sci]]
id = "support-cases"
name = "Support tasks ⇄ CRM cases"
mode = "two_way"
jira_projects = ["SUP"]
jira_issue_type = "Task"
zoho = {{ system = "crm", module = "Cases" }}
mappings = [{{ jira = "summary", zoho = "Subject" }}]
status_sync = true
status_field = "Status"
comments = true

[[sci]]
id = "engineering-deals"
name = "Engineering ⇄ Deals (display)"
mode = "display"
jira_projects = ["ENG"]
zoho = {{ system = "crm", module = "Deals" }}
preview_fields = ["Deal_Name", "Stage", "Amount"]
"""


DEMO_ADMIN = ("admin", "demo")


def demo_config(state_dir: Path, port: int, jira: dict[str, str]) -> str:
    return (
        f'[daemon]\npublic_url = "http://127.0.0.1:{port}"\n'
        f'[http]\nport = {port}\n'
        f'[store]\npath = "{state_dir / "demo.db"}"\n'
        f'[jira]\nsite_url = "{jira["base_url"]}"\nemail = "{jira["email"]}"\n'
        f'api_token = "{jira["api_token"]}"\nwebhook_secret = "demo-webhook-secret"\n'
        f'[[ui.user]]\nname = "{DEMO_ADMIN[0]}"\nrole = "admin"\n'
        f'password_hash = "{hash_password(DEMO_ADMIN[1])}"\n'
        + DEMO_SCIS.format()
    )


def banner(port: int, jira: dict[str, str]) -> str:
    auth = f'{jira["email"]}:{jira["api_token"]}'
    return f"""
  Zoho ⇄ Jira bridge demo
  daemon      http://127.0.0.1:{port}/healthz  /readyz  /metrics
  admin UI    http://127.0.0.1:{port}/   sign in as {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}
  Jira (sim)  {jira["base_url"]}   user {jira["email"]}

  Try a change in the simulated Jira and watch the daemon receive it:
    curl -u {auth} -X PUT -H 'Content-Type: application/json' \\
         -d '{{"fields": {{"summary": "Printer fixed"}}}}' {jira["base_url"]}/rest/api/3/issue/SUP-1
    curl -s http://127.0.0.1:{port}/metrics | grep bridge_webhook_events_total
  Ctrl-C stops everything.
"""


async def run(state_dir: Path, port: int, sim_port: int) -> int:
    jira_sim = JiraSimulator()
    sandbox = Sandbox([Served("jira", jira_sim.app, jira_sim.sandbox_info)], port=sim_port)
    await sandbox.start()
    try:
        jira = sandbox.description()["jira"]
        path = state_dir / "demo.toml"
        await anyio.Path(path).write_text(demo_config(state_dir, port, jira), encoding="utf-8")
        config = config_module.load(path)
        print(banner(port, jira), file=sys.stderr, flush=True)
        return await Daemon(path, config).serve()
    finally:
        await sandbox.stop()


def main(state_dir: Path, port: int = 8080, sim_port: int = 8090) -> int:
    bridge_logging.configure("info")
    state_dir.mkdir(parents=True, exist_ok=True)
    return anyio.run(run, state_dir, port, sim_port)
