"""The daemon's outside connections: build clients from config, probe them, keep the
Jira webhook registration in line with the SCIs, and set up declarative Zoho connections."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field

import aiohttp
import msgspec
import structlog

from actors.budget import RateBudget
from actors.throttle import PatternThrottle
from adapters.http import RemoteError
from adapters.jira.client import JiraClient, ensure_webhook
from adapters.zoho.crm import ZohoCrmClient
from adapters.zoho.datacenters import data_center
from adapters.zoho.oauth import ZohoOAuth
from adapters.zoho.projects import ZohoProjectsClient, url_pattern
from bridge.config import Config, ZohoConnection, reveal
from bridge.sci import SciConfig
from bridge.store import Store
from bridge.store.base import ConnectionKind
from bridge.tokens import StoreTokenStore

log = structlog.get_logger("bridge.connections")

WEBHOOK_NAME = "zoho-jira-bridge"
WEBHOOK_EVENTS = (
    "jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
    "comment_created", "comment_updated", "comment_deleted",
    "attachment_created", "attachment_deleted",
)
CRM = "zoho.crm"
PROJECTS = "zoho.projects"


def user_record(name: str, user: str) -> str:
    """The store record of one panel user's Zoho tokens (Providers mode)."""
    return f"{name}@{user}"


def app_record(name: str) -> str:
    """The store record holding a Zoho connection's app settings made in the admin UI."""
    return f"{name}.app"


async def with_stored_zoho(config: Config, store: Store) -> tuple[Config, set[str]]:
    """The config with the Zoho connections set up in the admin UI filled in, and their
    names. A connection the config file declares always wins over a stored one."""
    found: dict[str, ZohoConnection] = {}
    for name, declared in ((CRM, config.zoho.crm), (PROJECTS, config.zoho.projects)):
        stored = None if declared is not None else await store.get_connection(app_record(name))
        if stored is not None:
            found[name] = msgspec.convert(
                {**stored.settings, "client_secret": stored.secrets.get("client_secret", "")},
                ZohoConnection)
    if not found:
        return config, set()
    zoho = msgspec.structs.replace(config.zoho, crm=found.get(CRM, config.zoho.crm),
                                   projects=found.get(PROJECTS, config.zoho.projects))
    return msgspec.structs.replace(config, zoho=zoho), set(found)


def configured(config: Config) -> list[str]:
    """Names of the connections the config asks for."""
    named = (("jira", config.jira), (CRM, config.zoho.crm), (PROJECTS, config.zoho.projects))
    return [name for name, section in named if section is not None]


@dataclass
class ZohoLink:
    """One declarative Zoho connection (CRM or Projects): its OAuth and request budget."""

    oauth: ZohoOAuth
    settings: ZohoConnection
    session: aiohttp.ClientSession
    budget: RateBudget
    tokens: StoreTokenStore
    # Zoho Projects paces per URL pattern; one throttle per account, shared by its SCIs.
    throttle: PatternThrottle = field(default_factory=lambda: PatternThrottle(url_pattern))

    async def crm_client(self, viewer: str = "") -> ZohoCrmClient:
        """A CRM client on the token's API domain (an explicit ``api_url`` wins); with a
        ``viewer``, on that panel user's own token (Providers mode)."""
        oauth = self.user_oauth(viewer) if viewer else self.oauth
        default = data_center(self.settings.data_center).api
        api = self.settings.api_url or await oauth.api_domain(default)
        return ZohoCrmClient.connect(api, oauth, self.session, self.budget)

    def user_oauth(self, user: str) -> ZohoOAuth:
        """A panel user's own sign-in (Providers mode), kept in the store like the app's."""
        return ZohoOAuth(user_record(self.oauth.connection, user),
                         client_id=self.settings.client_id,
                         client_secret=reveal(self.settings.client_secret),
                         accounts_url=self.oauth.accounts_url, session=self.session,
                         store=self.tokens)

    async def projects_client(self) -> ZohoProjectsClient:
        """A Zoho Projects client (an explicit ``api_url`` wins over the data center)."""
        center = data_center(self.settings.data_center)
        api = self.settings.api_url or center.projects
        return ZohoProjectsClient.connect(api, self.oauth, self.session,
                                          workdrive_base=self.settings.api_url or center.workdrive,
                                          budget=self.budget, throttle=self.throttle)

    async def prepare(self) -> None:
        """Adopt configured credentials unless the store already holds working tokens.
        (Providers mode keeps no app token: each user signs in from the panel.)

        A grant code is single-use: it is exchanged only when nothing is stored yet, so
        restarts with the same config keep using the stored refresh token.
        """
        settings = self.settings
        if settings.mode == "providers":
            return
        stored = await self.oauth.stored()
        if settings.refresh_token and (stored is None
                                       or stored.refresh_token != settings.refresh_token):
            await self.oauth.use_refresh_token(reveal(settings.refresh_token))
        elif stored is None and settings.grant_code:
            await self.oauth.exchange_grant(reveal(settings.grant_code))


@dataclass
class Connections:
    jira: JiraClient | None = None
    crm: ZohoLink | None = None
    projects: ZohoLink | None = None

    @classmethod
    def from_config(cls, config: Config, session: aiohttp.ClientSession,
                    store: Store) -> Connections:
        return cls(jira=_jira(config, session),
                   crm=_zoho(CRM, config.zoho.crm, session, store),
                   projects=_zoho(PROJECTS, config.zoho.projects, session, store))

    prepared: bool = False  # set once configured credentials were adopted

    async def prepare(self) -> None:
        for link in (self.crm, self.projects):
            if link is None:
                continue
            try:
                await link.prepare()
            except RemoteError as exc:
                log.error("zoho.connection_setup_failed", connection=link.oauth.connection,
                          error=str(exc))
        self.prepared = True

    async def problems(self, config: Config) -> dict[str, str]:
        """Connection name → what is wrong ("" when usable)."""
        found: dict[str, str] = {}
        if self.jira is not None:
            found["jira"] = await _probe(self.jira.myself())
        if self.crm is not None:  # in Providers mode each user's own sign-in is checked
            found[CRM] = "" if self.crm.settings.mode == "providers" else \
                await _probe(_crm_org(self.crm))
        if self.projects is not None:  # usable once a token can be had
            found[PROJECTS] = await _probe(self.projects.oauth.access_token())
        return found

    async def register_webhook(self, config: Config, scis: Sequence[SciConfig]
                               ) -> int | None:
        """Point Jira's webhook at this daemon for the SCIs' projects (when reachable)."""
        jira = config.jira
        if (self.jira is None or jira is None or jira.delivery == "poll"
                or not config.daemon.public_url or not jira.webhook_secret):
            return None
        projects = sorted({p for sci in scis if sci.enabled for p in sci.jira_projects})
        if not projects:
            return None
        url = config.daemon.public_url.rstrip("/") + "/webhooks/jira"
        jql = f"project in ({', '.join(projects)})"
        hook_id = await ensure_webhook(self.jira, name=WEBHOOK_NAME, url=url,
                                       events=WEBHOOK_EVENTS, jql=jql,
                                       secret=reveal(jira.webhook_secret))
        log.info("jira.webhook_registered", webhook_id=hook_id, url=url, jql=jql)
        return hook_id


def _jira(config: Config, session: aiohttp.ClientSession) -> JiraClient | None:
    jira = config.jira
    if jira is None:
        return None
    budget = RateBudget("jira", rate=jira.requests_per_second,
                        burst=jira.requests_per_second * 2)
    return JiraClient.basic(jira.site_url, jira.email, reveal(jira.api_token), session, budget)


def _zoho(name: str, settings: ZohoConnection | None, session: aiohttp.ClientSession,
          store: Store) -> ZohoLink | None:
    if settings is None:
        return None
    accounts = settings.accounts_url or data_center(settings.data_center).accounts
    kind: ConnectionKind = "zoho_crm" if name == CRM else "zoho_projects"
    tokens = StoreTokenStore(store, kind)
    oauth = ZohoOAuth(name, client_id=settings.client_id,
                      client_secret=reveal(settings.client_secret), accounts_url=accounts,
                      session=session, store=tokens)
    # Zoho CRM allows 10 concurrent calls per org on the Standard edition.
    budget = RateBudget(name, rate=settings.requests_per_second,
                        burst=settings.requests_per_second * 2, max_concurrent=10)
    return ZohoLink(oauth, settings, session, budget, tokens)


async def _crm_org(crm: ZohoLink) -> object:
    return await (await crm.crm_client()).org()


async def _probe(call: Awaitable[object]) -> str:
    try:
        await call
    except RemoteError as exc:
        return str(exc)
    return ""
