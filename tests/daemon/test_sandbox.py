import json
import signal
import subprocess
import sys

import aiohttp

from adapters.jira.client import JiraClient
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.oauth import MemoryTokenStore, ZohoOAuth
from adapters.zoho.projects import ZohoProjectsClient


async def test_sandbox_prints_one_line_then_serves_until_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        jira = info["jira"]
        assert set(jira) == {"base_url", "email", "api_token", "webhook_secret", "oauth_token"}
        zoho = info["zoho"]
        assert set(zoho) == {"accounts_url", "crm_api_url", "client_id", "client_secret",
                             "code", "refresh_token", "projects_api_url",
                             "workdrive_api_url", "portal_id", "project_ids"}
        async with aiohttp.ClientSession() as session:
            client = JiraClient.basic(jira["base_url"], jira["email"], jira["api_token"],
                                      session)
            assert {p["key"] for p in await client.projects()} == {"SUP", "ENG"}
            oauth = ZohoOAuth("crm", client_id=zoho["client_id"],
                              client_secret=zoho["client_secret"],
                              accounts_url=zoho["accounts_url"], session=session,
                              store=MemoryTokenStore())
            tokens = await oauth.exchange_grant(zoho["code"])
            assert tokens.api_domain == zoho["crm_api_url"]
            crm = ZohoCrmClient.connect(tokens.api_domain, oauth, session)
            assert [d["Deal_Name"] async for d in crm.records("Deals", ["Deal_Name"])]
            projects = ZohoProjectsClient.connect(
                zoho["projects_api_url"], oauth, session,
                workdrive_base=zoho["workdrive_api_url"])
            assert zoho["portal_id"] in [p.id for p in await projects.portals()]
            listed = await projects.projects(zoho["portal_id"])
            assert zoho["project_ids"] == {p.name: p.id for p in listed}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
