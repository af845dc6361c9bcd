"""``bridge demo``: the daemon wired to every built-in simulator (Jira, Zoho accounts,
Zoho CRM, Zoho Projects) with sample data and SCIs in each mode.

The simulators live in memory, so each demo starts from a fresh database in its state
directory. The simulated Jira gets the daemon's webhook registered and the simulated CRM a
notification channel, so a change on either side shows up on the other within seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import aiohttp
import anyio

from bridge import config as config_module
from bridge import demo_scenario
from bridge import logging as bridge_logging
from bridge.admin.passwords import hash_password
from bridge.console.app import console_app
from bridge.console.client import SimulatorClient
from bridge.daemon import Daemon
from bridge.demo_scenario import CASES
from bridge.sandbox import Sandbox, Served, Simulators

DEMO_SCIS = """
[[sci]]
id = "support-cases"
name = "Support tasks ⇄ CRM cases"
mode = "two_way"
jira_projects = ["SUP"]
jira_issue_type = "Task"
zoho = {{ system = "crm", module = "Cases" }}
poll_interval = 5.0
auto_create = true
comments = true
attachments = true
mappings = [
  {{ jira = "summary", zoho = "Subject" }},
  {{ jira = "description", zoho = "Description" }},
  {{ jira = "priority", zoho = "Priority" }},
]
rule = {{ field = "Status", operator = "equals", value = "Escalated", \
status_when_met = "In Progress", status_when_not_met = "To Do", create_when_not_met = true }}

[[sci]]
id = "mobile-tasks"
name = "Engineering ⇄ Mobile App tasks"
mode = "custom"
jira_projects = ["ENG"]
jira_issue_type = "Task"
zoho = {{ system = "projects", module = "tasks", portal_id = "{portal_id}", \
project_id = "{project_id}" }}
poll_interval = 5.0
auto_create = true
status_sync = true
status_field = "status"
status_map = {{ "Closed" = "Done" }}
mappings = [{{ jira = "summary", zoho = "name", owner = "both" }}]

[[sci]]
id = "mobile-issues"
name = "Mobile App issues → Engineering bugs (one-way)"
mode = "one_way"
jira_projects = ["ENG"]
jira_issue_type = "Bug"
zoho = {{ system = "projects", module = "issues", portal_id = "{portal_id}", \
project_id = "{project_id}" }}
poll_interval = 5.0
auto_create = true
mappings = [{{ jira = "summary", zoho = "name" }}]

[[sci]]
id = "engineering-deals"
name = "Engineering ⇄ Deals (display)"
mode = "display"
jira_projects = ["ENG"]
zoho = {{ system = "crm", module = "Deals" }}
preview_fields = ["Deal_Name", "Stage", "Amount"]
"""

DEMO_ADMIN = ("admin", "demo")


def demo_config(state_dir: Path, port: int, sims: dict[str, Any]) -> str:
    jira, zoho = sims["jira"], sims["zoho"]
    common = (f'client_id = "{zoho["client_id"]}"\nclient_secret = "{zoho["client_secret"]}"\n'
              f'accounts_url = "{zoho["accounts_url"]}"\n'
              f'refresh_token = "{zoho["refresh_token"]}"\n')
    return (
        f'[daemon]\npublic_url = "http://127.0.0.1:{port}"\n'
        f'[http]\nport = {port}\n'
        f'[store]\npath = "{state_dir / "demo.db"}"\n'
        f'[jira]\nsite_url = "{jira["base_url"]}"\nemail = "{jira["email"]}"\n'
        f'api_token = "{jira["api_token"]}"\nwebhook_secret = "{jira["webhook_secret"]}"\n'
        f'[zoho.crm]\n{common}api_url = "{zoho["crm_api_url"]}"\n'
        f'[zoho.projects]\n{common}api_url = "{zoho["projects_api_url"]}"\n'
        f'[[ui.user]]\nname = "{DEMO_ADMIN[0]}"\nrole = "admin"\n'
        f'password_hash = "{hash_password(DEMO_ADMIN[1])}"\n'
        + DEMO_SCIS.format(portal_id=zoho["portal_id"],
                           project_id=zoho["project_ids"]["Mobile App"])
    )


def banner(port: int, sims: dict[str, Any]) -> str:
    jira = sims["jira"]
    auth = f'{jira["email"]}:{jira["api_token"]}'
    return f"""
  Zoho ⇄ Jira bridge demo
  daemon      http://127.0.0.1:{port}/healthz  /readyz  /metrics
  admin UI    http://127.0.0.1:{port}/   sign in as {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}
  console     {sims["console_url"]}/   edit a simulated Jira issue, CRM case or Projects task
  Jira (sim)  {jira["base_url"]}   user {jira["email"]}
  Zoho (sim)  CRM {sims["zoho"]["crm_api_url"]}   Projects {sims["zoho"]["projects_api_url"]}

  SCIs: SUP Tasks ⇄ CRM Cases (two-way, auto-create, rule, comments, files), ENG Tasks ⇄
  Projects "Mobile App" tasks (custom, status both ways), "Mobile App" issues → ENG Bugs
  (one-way), ENG ⇄ Deals (display).
  Within seconds the demo seeds new cases and tasks, linked to new Jira issues: look for
  comments and a file on "{CASES["comments"]["Subject"]}",
  a conflict in the history of support-cases, and a dead letter (a Jira priority the CRM
  refuses) on the Dead letters page. Edits in the console arrive on the other side.
  The simulated APIs take curl too:
    curl -u {auth} {jira["base_url"]}/rest/api/3/issue/SUP-1
  Ctrl-C stops everything.
"""


async def run(state_dir: Path, port: int, sim_port: int) -> int:
    sims = Simulators.create()
    async with aiohttp.ClientSession() as session:
        sandbox = Sandbox(sims.served(), port=sim_port)
        client = SimulatorClient(sims, sandbox, session)
        daemon_url = f"http://127.0.0.1:{port}"
        sandbox.add(Served("console", lambda: console_app(client, daemon_url + "/"),
                           lambda base_url: {"console_url": base_url}))
        await sandbox.start()
        try:
            return await _serve(state_dir, port, sandbox, client)
        finally:
            await sandbox.stop()


async def _serve(state_dir: Path, port: int, sandbox: Sandbox, client: SimulatorClient) -> int:
    sims = sandbox.description()
    async for stale in anyio.Path(state_dir).glob("demo.db*"):
        await stale.unlink()  # the simulators start afresh, so does the demo
    path = state_dir / "demo.toml"
    await anyio.Path(path).write_text(demo_config(state_dir, port, sims), encoding="utf-8")
    config = config_module.load(path)
    print(banner(port, sims), file=sys.stderr, flush=True)
    async with anyio.create_task_group() as group:
        group.start_soon(demo_scenario.play, client, f"http://127.0.0.1:{port}")
        code = await Daemon(path, config).serve()
        group.cancel_scope.cancel()
    return code


def main(state_dir: Path, port: int = 8080, sim_port: int = 8090) -> int:
    bridge_logging.configure("info")
    state_dir.mkdir(parents=True, exist_ok=True)
    return anyio.run(run, state_dir, port, sim_port)
