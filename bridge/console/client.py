"""Writes to the running simulators through their public HTTP APIs, so each one reacts as it
would to any other API client: Jira sends its signed webhooks, the CRM its notifications.

Reads come straight from the simulators' state: they have no side effects, and a page view
should not spend the API credits and per-URL throttles the daemon's own calls count against.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.jira import adf
from bridge.sandbox import Sandbox, Simulators

PROJECT = "Mobile App"  # the Projects project the demo's custom SCI syncs


class SimulatorRefused(Exception):
    """A simulator answered a write with an error."""


@dataclass(frozen=True)
class Row:
    """One editable item as the console lists it."""

    system: str  # "jira" | "crm" | "projects"
    id: str
    label: str  # issue key, or the record's name on the other systems
    title: str
    status: str
    linked: str = ""  # the item the bridge linked it to, on the other side


class SimulatorClient:
    def __init__(self, sims: Simulators, sandbox: Sandbox,
                 session: aiohttp.ClientSession) -> None:
        self.sims = sims
        self._sandbox = sandbox
        self.session = session
        self._refresh = sims.accounts.issue_refresh_token()
        self._access = ""

    # -- listings (state) ----------------------------------------------------------------
    def jira_issues(self, *projects: str) -> list[Row]:
        zoho = {row.id: row.label for row in (*self.crm_cases(), *self.projects_tasks())}
        issues = [i for i in self.sims.jira.state.issues.values() if i.project.key in projects]
        return [Row("jira", i.key, i.key, str(i.fields.get("summary", "")), i.status.name,
                    next((zoho[item] for link in i.remote_links
                          if (item := _bridged(link.global_id)) in zoho), ""))
                for i in issues]

    def crm_cases(self) -> list[Row]:
        return [Row("crm", r["id"], r["id"], str(r.get("Subject", "")), str(r.get("Status", "")),
                    self.linked_issue(r["id"]))
                for r in self.sims.crm.store.module("Cases").values()]

    def projects_tasks(self) -> list[Row]:
        state = self.sims.projects.state
        return [Row("projects", t["id"], t["prefix"], t["name"], t["status"]["name"],
                    self.linked_issue(t["id"]))
                for t in state.in_project("tasks", self.project_id)]

    def linked_issue(self, record_id: str) -> str:
        """The key of the Jira issue the bridge linked to a Zoho item ("" when none): the
        bridge names the item in the global id of the issue's remote link."""
        return next((i.key for i in self.sims.jira.state.issues.values()
                     if any(_bridged(link.global_id) == record_id for link in i.remote_links)),
                    "")

    @property
    def project_id(self) -> str:
        state = self.sims.projects.state
        return next(p["id"] for p in state.projects.values() if p["name"] == PROJECT)

    # -- Jira ------------------------------------------------------------------------------
    async def edit_issue(self, key: str, fields: dict[str, Any]) -> None:
        await self._jira("PUT", f"/issue/{key}", json={"fields": fields})

    def edit_summary_unannounced(self, key: str, summary: str) -> None:
        """Change an issue's summary as a person would, but with its webhook delivery lost:
        the bridge learns of it only on the issue's next pass."""
        state = self.sims.jira.state
        issue, person = state.issue(key), state.users[-1]  # a person, not the bridge's bot
        if issue is None:
            raise SimulatorRefused(f"no Jira issue {key}")
        before = issue.fields.get("summary")
        issue.fields["summary"] = summary
        state.record_change(issue, person, [{"field": "summary", "fieldtype": "jira",
                                             "fieldId": "summary", "from": None,
                                             "fromString": before, "to": None,
                                             "toString": summary}])

    async def comment_issue(self, key: str, text: str) -> None:
        await self._jira("POST", f"/issue/{key}/comment", json={"body": adf.to_adf(text)})

    async def attach_to_issue(self, key: str, filename: str, content: bytes,
                              mime: str = "text/plain") -> None:
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type=mime)
        await self._jira("POST", f"/issue/{key}/attachments", data=form,
                         headers={"X-Atlassian-Token": "no-check"})

    async def _jira(self, method: str, path: str, **kwargs: Any) -> Any:
        jira = self.sims.jira.ctx
        basic = base64.b64encode(f"{jira.email}:{jira.api_token}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", **kwargs.pop("headers", {})}
        url = f"{self._sandbox.urls['jira']}/rest/api/3{path}"
        return await self._call(method, url, headers, **kwargs)

    # -- Zoho CRM --------------------------------------------------------------------------
    async def create_case(self, values: dict[str, Any]) -> str:
        answer = await self._crm("POST", "/Cases", json={"data": [values]})
        return str(answer["data"][0]["details"]["id"])

    async def edit_case(self, record_id: str, values: dict[str, Any]) -> None:
        await self._crm("PUT", f"/Cases/{record_id}", json={"data": [values]})

    async def note_case(self, record_id: str, title: str, content: str) -> None:
        await self._crm("POST", f"/Cases/{record_id}/Notes",
                        json={"data": [{"Note_Title": title, "Note_Content": content}]})

    async def _crm(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self._call(method, f"{self._sandbox.urls['zoho_crm']}/crm/v8{path}",
                                  self._zoho_auth(), **kwargs)
        refused = [row for row in answer.get("data", []) if row.get("status") != "success"]
        if refused:
            raise SimulatorRefused(f"Zoho CRM: {refused[0].get('code')} "
                                   f"{refused[0].get('details')}")
        return answer

    # -- Zoho Projects ---------------------------------------------------------------------
    async def create_task(self, name: str, module: str = "tasks") -> str:
        """A Zoho Projects task (or, with ``module="issues"``, an issue)."""
        answer = await self._projects("POST", f"/{module}", json={"name": name})
        return str(answer["id"])

    async def edit_task(self, task_id: str, values: dict[str, Any]) -> None:
        await self._projects("PATCH", f"/tasks/{task_id}", json=values)

    async def _projects(self, method: str, path: str, **kwargs: Any) -> Any:
        portal = self.sims.projects.portal_id
        url = (f"{self._sandbox.urls['zoho_projects']}/api/v3/portal/{portal}"
               f"/projects/{self.project_id}{path}")
        return await self._call(method, url, self._zoho_auth(), **kwargs)

    def _zoho_auth(self) -> dict[str, str]:
        accounts = self.sims.accounts
        if not accounts.is_valid_access_token(self._access):
            self._access = accounts.issue_access_token(self._refresh)
        return {"Authorization": f"Zoho-oauthtoken {self._access}"}

    async def _call(self, method: str, url: str, headers: dict[str, str],
                    **kwargs: Any) -> Any:
        async with self.session.request(method, url, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None) if response.status != 204 else None
            if response.status >= 400:
                raise SimulatorRefused(f"{response.status}: {body}")
            return body or {}


def _bridged(global_id: str | None) -> str:
    """The Zoho item a remote link the bridge set on an issue names ("" for other links)."""
    prefix = "zoho-bridge:"
    return global_id.removeprefix(prefix) if global_id and global_id.startswith(prefix) else ""
