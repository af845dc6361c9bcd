from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import aiohttp
import anyio
import pytest
from aiohttp.test_utils import TestServer

from adapters.http import RemoteError
from adapters.zoho.datacenters import DATA_CENTERS, data_center
from adapters.zoho.oauth import MemoryTokenStore, StateSigner, ZohoAuthRequired, ZohoOAuth
from adapters.zoho.simulator.accounts import ZohoAccountsSimulator


@dataclass
class Accounts:
    sim: ZohoAccountsSimulator
    url: str
    session: aiohttp.ClientSession
    store: MemoryTokenStore

    def oauth(self, **kwargs) -> ZohoOAuth:
        return ZohoOAuth("crm", client_id=self.sim.client_id,
                         client_secret=kwargs.pop("secret", self.sim.client_secret),
                         accounts_url=self.url, session=self.session, store=self.store,
                         **kwargs)


@pytest.fixture
async def accounts() -> AsyncIterator[Accounts]:
    sim = ZohoAccountsSimulator(api_domain="http://crm.invalid")
    async with TestServer(sim.app()) as server, aiohttp.ClientSession() as session:
        yield Accounts(sim, str(server.make_url("")).rstrip("/"), session, MemoryTokenStore())


async def test_grant_code_exchange_stores_tokens(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    tokens = await oauth.exchange_grant(accounts.sim.issue_grant_code())
    assert tokens.refresh_token.startswith("1000.") and tokens.api_domain == "http://crm.invalid"
    assert (await accounts.store.load("crm")) == tokens
    header = (await oauth.headers())["Authorization"]
    assert header.startswith("Zoho-oauthtoken ")
    assert accounts.sim.is_valid_access_token(header.split()[1])
    assert "1000." not in repr(tokens) and "secret" not in repr(oauth)


async def test_grant_codes_are_single_use(accounts: Accounts) -> None:
    code = accounts.sim.issue_grant_code()
    await accounts.oauth().exchange_grant(code)
    with pytest.raises(ZohoAuthRequired, match="invalid, expired or revoked"):
        await accounts.oauth().exchange_grant(code)


async def test_wrong_client_secret_is_reported(accounts: Accounts) -> None:
    with pytest.raises(ZohoAuthRequired, match="client secret does not match"):
        await accounts.oauth(secret="wrong").exchange_grant(accounts.sim.issue_grant_code())


async def test_concurrent_callers_share_one_refresh(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    await oauth.use_refresh_token(accounts.sim.issue_refresh_token())
    tokens: set[str] = set()

    async def call() -> None:
        tokens.add((await oauth.headers())["Authorization"])

    async with anyio.create_task_group() as group:
        for _ in range(25):
            group.start_soon(call)
    assert accounts.sim.refresh_hits == 1 and len(tokens) == 1


async def test_refresh_before_expiry(accounts: Accounts) -> None:
    now = [1000.0]
    accounts.sim.token_ttl = 600
    oauth = accounts.oauth(refresh_margin=300, clock=lambda: now[0])
    await oauth.use_refresh_token(accounts.sim.issue_refresh_token())
    first = await oauth.access_token()
    now[0] += 200  # 400 s left: still fresh enough
    assert await oauth.access_token() == first
    now[0] += 150  # 250 s left: inside the margin, refresh now
    assert await oauth.access_token() != first
    assert accounts.sim.refresh_hits == 2


async def test_revoked_refresh_token_fails_fast_without_retry_storm(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    refresh = accounts.sim.issue_refresh_token()
    await oauth.use_refresh_token(refresh)
    accounts.sim.revoke(refresh)
    with pytest.raises(ZohoAuthRequired, match="authentication required"):
        await oauth.headers()
    for _ in range(5):
        with pytest.raises(ZohoAuthRequired):
            await oauth.headers()
    assert accounts.sim.refresh_hits == 0
    assert "generate a new code" in oauth.auth_required


async def test_rejected_token_triggers_exactly_one_refresh(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    await oauth.use_refresh_token(accounts.sim.issue_refresh_token())
    stale = await oauth.headers()
    accounts.sim.expire_access_tokens()
    assert await oauth.refresh_after_rejection(stale)
    assert await oauth.refresh_after_rejection(stale)  # someone already refreshed: no call
    assert accounts.sim.refresh_hits == 2  # the first token, then one refresh
    assert accounts.sim.is_valid_access_token((await oauth.headers())["Authorization"].split()[1])


def test_access_tokens_per_refresh_token_are_capped() -> None:
    sim = ZohoAccountsSimulator()
    refresh = sim.issue_refresh_token()
    tokens = [sim.issue_access_token(refresh) for _ in range(31)]  # Zoho keeps 30
    assert not sim.is_valid_access_token(tokens[0])
    assert all(sim.is_valid_access_token(t) for t in tokens[1:])
    sim.access_token_cap = 2
    newest = sim.issue_access_token(refresh)
    assert [sim.is_valid_access_token(t) for t in (*tokens[-2:], newest)] == [
        False, True, True]


def test_refresh_tokens_per_user_are_capped() -> None:
    sim = ZohoAccountsSimulator()
    mine = [sim.issue_refresh_token(user="ann@example.com") for _ in range(21)]  # Zoho: 20
    other = sim.issue_refresh_token(user="bob@example.com")
    with pytest.raises(KeyError):
        sim.issue_access_token(mine[0])  # the oldest was deleted
    assert sim.is_valid_access_token(sim.issue_access_token(mine[1]))
    assert sim.is_valid_access_token(sim.issue_access_token(other))


async def test_client_survives_eviction_by_refreshing_once(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    refresh = accounts.sim.issue_refresh_token()
    await oauth.use_refresh_token(refresh)
    ours = await oauth.headers()
    for _ in range(accounts.sim.access_token_cap):  # another client of the same token
        accounts.sim.issue_access_token(refresh)
    assert not accounts.sim.is_valid_access_token(ours["Authorization"].split()[1])
    hits = accounts.sim.refresh_hits
    assert await oauth.refresh_after_rejection(ours)
    fresh = await oauth.headers()
    assert accounts.sim.is_valid_access_token(fresh["Authorization"].split()[1])
    assert accounts.sim.refresh_hits == hits + 1


async def test_refresh_throttle_is_not_mistaken_for_revocation(accounts: Accounts) -> None:
    accounts.sim.refresh_limit = 1
    oauth = accounts.oauth()
    await oauth.use_refresh_token(accounts.sim.issue_refresh_token())
    stale = await oauth.headers()
    with pytest.raises(RemoteError, match="Access Denied") as info:
        await oauth.refresh_after_rejection(stale)
    assert not isinstance(info.value, ZohoAuthRequired) and not oauth.auth_required


async def test_revoke_clears_tokens(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    tokens = await oauth.exchange_grant(accounts.sim.issue_grant_code())
    await oauth.revoke()
    assert await accounts.store.load("crm") is None
    assert not accounts.sim.revoke(tokens.refresh_token)  # already gone at Zoho
    with pytest.raises(ZohoAuthRequired, match="revoked"):
        await oauth.headers()


async def test_missing_scopes(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    await oauth.exchange_grant(accounts.sim.issue_grant_code(
        ["ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL"]))
    missing = await oauth.missing_scopes(["ZohoCRM.modules.notes.ALL", "ZohoCRM.org.READ",
                                          "WorkDrive.files.READ"])
    assert missing == ["ZohoCRM.org.READ", "WorkDrive.files.READ"]


async def test_redirect_flow_with_signed_state(accounts: Accounts) -> None:
    oauth = accounts.oauth()
    signer = StateSigner(b"k" * 32)
    state = signer.issue("ann@example.com")
    url = oauth.authorize_url("http://127.0.0.1/callback", ["ZohoCRM.modules.ALL"], state)
    async with accounts.session.get(url, allow_redirects=False) as response:
        assert response.status == 302
        back = parse_qs(urlparse(response.headers["Location"]).query)
    assert signer.verify(back["state"][0]) == "ann@example.com"
    assert back["accounts-server"] == [accounts.url] and back["location"] == ["us"]
    with pytest.raises(ZohoAuthRequired, match="redirect"):  # the code is bound to its URI
        await oauth.exchange_code(back["code"][0], "http://127.0.0.1/elsewhere")
    url = oauth.authorize_url("http://127.0.0.1/callback", ["ZohoCRM.modules.ALL"], state)
    async with accounts.session.get(url, allow_redirects=False) as response:
        back = parse_qs(urlparse(response.headers["Location"]).query)
    tokens = await oauth.exchange_code(back["code"][0], "http://127.0.0.1/callback")
    assert tokens.scopes == ("ZohoCRM.modules.ALL",)
    with pytest.raises(ValueError, match="signature"):
        signer.verify(state[:-2] + "00")
    expired = StateSigner(b"k" * 32, ttl=0, clock=lambda: 10**10)
    with pytest.raises(ValueError, match="expired"):
        expired.verify(state)


NINE = {  # region: (accounts/projects/workdrive domain, zohoapis TLD)
    "US": ("zoho.com", "com"), "EU": ("zoho.eu", "eu"), "IN": ("zoho.in", "in"),
    "AU": ("zoho.com.au", "com.au"), "JP": ("zoho.jp", "jp"), "CN": ("zoho.com.cn", "com.cn"),
    "UK": ("zoho.uk", "uk"), "CA": ("zohocloud.ca", "ca"), "SA": ("zoho.sa", "sa"),
}


@pytest.mark.parametrize("region", sorted(NINE))
def test_data_center_hosts(region: str) -> None:
    domain, tld = NINE[region]
    dc = data_center(region.lower())
    assert (dc.accounts, dc.api, dc.projects, dc.workdrive) == (
        f"https://accounts.{domain}", f"https://www.zohoapis.{tld}",
        f"https://projectsapi.{domain}", f"https://workdrive.{domain}")


def test_only_nine_data_centers() -> None:
    assert set(DATA_CENTERS) == set(NINE)
    with pytest.raises(ValueError, match="known: US"):
        data_center("XX")
