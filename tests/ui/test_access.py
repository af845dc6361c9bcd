"""The access gate without a browser: every route enumerated, headers, cookie flags,
sign-in rate limiting and CSRF, the trusted proxy header, redirects after sign-in."""

from pathlib import Path

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Config
from bridge.ui.auth import is_public
from bridge.ui.security import session_storage
from tests.api.conftest import api_client
from tests.api.harness import ADMIN


def csrf_from(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


async def login(client: TestClient, name: str, password: str, next_path: str = "/"):
    token = csrf_from(await (await client.get("/login")).text())
    return await client.post("/login", data={"name": name, "password": password,
                                             "csrf_token": token, "next": next_path},
                             allow_redirects=False)


async def test_nothing_but_health_metrics_webhooks_and_sign_in_answers_anonymously(
        tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        checked = 0
        for route in api.client.app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = info.get("path") or info.get("formatter", "")
            path = path.replace("{name}", "jira").replace("{sci_id}", "support-cases")
            path = path.replace("{dead_id}", "1")
            if not path or route.method == "HEAD":
                continue
            if "prefix" in info:  # static files
                path = info["prefix"] + "/style.css"
            response = await api.client.request(route.method, path, allow_redirects=False)
            if is_public(path):  # answered by the handler itself (webhooks check signatures)
                assert response.status != 303 and (response.status != 401
                                                   or path == "/webhooks/jira"), path
                continue
            checked += 1
            assert response.status in (303, 401), (route.method, path, response.status)
            if response.status == 303:
                assert response.headers["Location"].startswith("/login?next=")
        assert checked >= 20
        assert len(await api.runtime.store.list_dead_letters()) == 2


async def test_security_headers_on_pages(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        response = await api.client.get("/login")
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert "script-src 'self';" in csp and "default-src 'none'" in csp  # own files only
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # loopback over plain http only


def test_cookie_is_secure_unless_the_daemon_listens_on_loopback(tmp_path: Path) -> None:
    def storage(host: str, **ui: bool):
        return session_storage(msgspec.convert(
            {"http": {"host": host}, "store": {"path": str(tmp_path / "db")}, "ui": ui}, Config))

    assert storage("0.0.0.0").cookie_params["secure"] is True
    assert storage("192.168.1.5").cookie_params["secure"] is True
    assert storage("::1").cookie_params["secure"] is False
    assert storage("localhost").cookie_params["secure"] is False
    # A TLS proxy on the same machine forwarding to loopback: the operator says so.
    assert storage("127.0.0.1", secure_cookie=True).cookie_params["secure"] is True


async def test_sign_in_without_the_form_token_is_refused(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        response = await api.client.post("/login", data={"name": ADMIN[0],
                                                         "password": ADMIN[1]})
        assert response.status == 403 and "expired" in await response.text()
        assert (await api.client.get("/api/v1/me")).status == 401


async def test_failed_sign_ins_are_rate_limited(tmp_path: Path) -> None:
    async with api_client(tmp_path, login_attempts=3, login_window=600) as api:
        for _ in range(3):
            response = await login(api.client, ADMIN[0], "wrong")
            assert response.status == 401
            assert "Wrong user name or password." in await response.text()
        response = await login(api.client, ADMIN[0], ADMIN[1])
        assert response.status == 429
        assert "Too many failed sign-ins. Try again in" in await response.text()
        assert (await api.client.get("/api/v1/me")).status == 401


async def test_page_for_an_unknown_item_says_so(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        assert (await login(api.client, ADMIN[0], ADMIN[1])).status == 303
        response = await api.client.get("/admin/scis/nope/history")
        assert response.url.path == "/admin/scis"
        assert "no SCI &#39;nope&#39;" in await response.text()


async def test_sign_in_redirects_only_to_this_site(tmp_path: Path) -> None:
    async with api_client(tmp_path) as api:
        response = await login(api.client, ADMIN[0], ADMIN[1], next_path="//evil.example/x")
        assert response.status == 303 and response.headers["Location"] == "/"
        home = await api.client.get("/", allow_redirects=False)
        assert home.headers["Location"] == "/admin/connections"


@pytest.mark.parametrize(("proxies", "trusted"), [(["127.0.0.1"], True),
                                                  (["10.0.0.0/8"], False)])
async def test_proxy_header_is_honoured_only_from_trusted_addresses(
        tmp_path: Path, proxies: list[str], trusted: bool) -> None:
    async with api_client(tmp_path, trusted_proxy_header="X-Remote-User",
                          trusted_proxies=proxies) as api:
        response = await api.client.get("/api/v1/me", headers={"X-Remote-User": ADMIN[0]})
        if trusted:
            assert await response.json() == {"name": ADMIN[0], "role": "admin", "via": "proxy"}
        else:
            assert response.status == 401
        stranger = await api.client.get("/api/v1/scis", headers={"X-Remote-User": "mallory"})
        assert stranger.status == (403 if trusted else 401)  # unknown names get the user role
