from pathlib import Path

from bridge.admin.passwords import verify_password
from bridge.config import load
from bridge.demo import DEMO_ADMIN, banner, demo_config

SIMS = {"jira": {"base_url": "http://127.0.0.1:1", "email": "e@example.com", "api_token": "t",
                 "webhook_secret": "w"},
        "zoho": {"client_id": "c", "client_secret": "s", "accounts_url": "http://127.0.0.1:2",
                 "refresh_token": "r", "crm_api_url": "http://127.0.0.1:3",
                 "projects_api_url": "http://127.0.0.1:4", "portal_id": "1",
                 "project_ids": {"Mobile App": "2"}},
        "console_url": "http://127.0.0.1:5"}


def test_demo_has_an_admin_login_and_prints_it(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(demo_config(tmp_path, 8080, SIMS))
    (user,) = load(path, {}).ui.user
    assert (user.name, user.role) == (DEMO_ADMIN[0], "admin")
    assert verify_password(user.password_hash, DEMO_ADMIN[1])
    assert f"sign in as {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}" in banner(8080, SIMS)


def test_the_banner_points_at_the_console_and_the_seeded_problems() -> None:
    printed = banner(8080, SIMS)
    assert "console     http://127.0.0.1:5/" in printed
    assert "conflict in the history of support-cases" in printed
    assert "dead letter" in printed
    assert printed.count("curl -u") == 1
