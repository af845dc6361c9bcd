"""An SCI engine wired to the Jira, Zoho CRM and Zoho Projects simulators over loopback
sockets."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer

from actors.budget import RateBudget
from adapters.jira.client import JiraClient
from adapters.jira.simulator import JiraSimulator
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.oauth import MemoryTokenStore, ZohoOAuth
from adapters.zoho.projects import ZohoProjectsClient
from adapters.zoho.projects.views import ProjectRef
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator
from adapters.zoho.simulator.crm import ZohoCrmSimulator
from adapters.zoho.simulator.projects import ZohoProjectsSimulator
from bridge.engine.engine import SciEngine, Sides
from bridge.sci import SciConfig
from bridge.secretbox import SecretBox
from bridge.sides.base import ZohoSide
from bridge.sides.jira import JiraSide
from bridge.sides.zoho_crm import CrmSide
from bridge.sides.zoho_projects import ProjectsSide
from bridge.store import SciRecord, SqliteStore


@dataclass
class World:
    jira: JiraClient
    crm: ZohoCrmClient
    jira_sim: JiraSimulator
    crm_sim: ZohoCrmSimulator
    store: SqliteStore
    build: Callable[..., SciEngine]
    projects: ZohoProjectsClient
    project: ProjectRef  # the seeded "Mobile App" project


def sci(**overrides: Any) -> SciConfig:
    base: dict[str, Any] = {
        "id": "cases", "name": "Support cases", "mode": "two_way", "jira_projects": ["SUP"],
        "jira_issue_type": "Task", "zoho": {"system": "crm", "module": "Cases"},
        "mappings": [{"jira": "summary", "zoho": "Subject"},
                     {"jira": "description", "zoho": "Description"}],
    }
    return msgspec.convert({**base, **overrides}, SciConfig)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    jira_sim = JiraSimulator()
    accounts = ZohoAccountsSimulator()
    crm_sim = ZohoCrmSimulator(accounts, seed=False)
    projects_sim = ZohoProjectsSimulator(accounts.is_valid_access_token,
                                         scopes_for=accounts.scopes_for)
    store = SqliteStore(tmp_path / "bridge.db", SecretBox(SecretBox.generate_key()))
    await store.open()
    await store.put_sci(SciRecord(id="cases", name="Support cases", kind="crm",
                                  definition=msgspec.json.encode(sci())))
    async with TestServer(jira_sim.app()) as jira_server, \
            TestServer(accounts.app()) as accounts_server, \
            TestServer(crm_sim.app()) as crm_server, \
            TestServer(projects_sim.app()) as projects_server, \
            aiohttp.ClientSession() as session:
        jira_url = str(jira_server.make_url("")).rstrip("/")
        crm_url = str(crm_server.make_url("")).rstrip("/")
        accounts.api_domain = crm_url
        jira = JiraClient.basic(jira_url, jira_sim.ctx.email, jira_sim.ctx.api_token, session)
        oauth = ZohoOAuth("crm", client_id=accounts.client_id,
                          client_secret=accounts.client_secret,
                          accounts_url=str(accounts_server.make_url("")).rstrip("/"),
                          session=session, store=MemoryTokenStore())
        await oauth.use_refresh_token(accounts.issue_refresh_token())
        crm = ZohoCrmClient.connect(crm_url, oauth, session,
                                    RateBudget("crm", rate=1000, burst=100))
        projects_url = str(projects_server.make_url("")).rstrip("/")
        projects = ZohoProjectsClient.connect(projects_url, oauth, session,
                                              workdrive_base=projects_url)
        portal = projects_sim.portal_id
        project = next(p for p in await projects.projects(portal) if p.name == "Mobile App")
        where = ProjectRef(portal, project.id)

        def build(config: SciConfig | None = None, **kwargs: Any) -> SciEngine:
            chosen = config or sci()

            async def sides() -> Sides:
                fields = [m.zoho for m in chosen.mappings] + (
                    [chosen.rule.field] if chosen.rule else [])
                zoho: ZohoSide = (
                    CrmSide(crm, chosen.zoho.module, fields, chosen.status_field)
                    if chosen.zoho.system == "crm" else
                    ProjectsSide(projects, where.portal_id, where.project_id,
                                 chosen.zoho.module,
                                 workdrive_folder=chosen.zoho.workdrive_folder))
                return (JiraSide(jira, chosen.jira_projects[0], chosen.jira_issue_type,
                                 [m.jira for m in chosen.mappings]), zoho)

            return SciEngine(chosen, store, sides, **kwargs)

        yield World(jira, crm, jira_sim, crm_sim, store, build, projects, where)
    await store.close()
