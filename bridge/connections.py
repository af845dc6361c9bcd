"""The daemon's outside connections: build clients from config, probe them, keep the
Jira webhook registration in line with the SCIs."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import structlog

from actors.budget import RateBudget
from adapters.http import RemoteError
from adapters.jira.client import JiraClient, ensure_webhook
from bridge.config import Config, reveal

log = structlog.get_logger("bridge.connections")

WEBHOOK_NAME = "zoho-jira-bridge"
WEBHOOK_EVENTS = (
    "jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
    "comment_created", "comment_updated", "comment_deleted",
    "attachment_created", "attachment_deleted",
)
UNSUPPORTED = "Zoho connections are configured but this build has no Zoho client yet"


@dataclass
class Connections:
    jira: JiraClient | None

    @classmethod
    def from_config(cls, config: Config, session: aiohttp.ClientSession) -> Connections:
        jira = config.jira
        if jira is None:
            return cls(jira=None)
        budget = RateBudget("jira", rate=jira.requests_per_second,
                            burst=jira.requests_per_second * 2)
        return cls(jira=JiraClient.basic(jira.site_url, jira.email, reveal(jira.api_token),
                                         session, budget))

    async def problems(self, config: Config) -> dict[str, str]:
        """Connection name → what is wrong ("" when usable)."""
        found: dict[str, str] = {}
        if self.jira is not None:
            try:
                await self.jira.myself()
                found["jira"] = ""
            except RemoteError as exc:
                found["jira"] = str(exc)
        for name, zoho in (("zoho.crm", config.zoho.crm), ("zoho.projects", config.zoho.projects)):
            if zoho is not None:
                found[name] = UNSUPPORTED
        return found

    async def register_webhook(self, config: Config) -> int | None:
        """Point Jira's webhook at this daemon for the SCIs' projects (when reachable)."""
        jira = config.jira
        if (self.jira is None or jira is None or jira.delivery == "poll"
                or not config.daemon.public_url or not jira.webhook_secret):
            return None
        projects = sorted({p for sci in config.sci if sci.enabled for p in sci.jira_projects})
        if not projects:
            return None
        url = config.daemon.public_url.rstrip("/") + "/webhooks/jira"
        jql = f"project in ({', '.join(projects)})"
        hook_id = await ensure_webhook(self.jira, name=WEBHOOK_NAME, url=url,
                                       events=WEBHOOK_EVENTS, jql=jql,
                                       secret=reveal(jira.webhook_secret))
        log.info("jira.webhook_registered", webhook_id=hook_id, url=url, jql=jql)
        return hook_id
