import subprocess
import sys
from pathlib import Path

import pytest

from bridge import config
from bridge.config import ConfigError, Secret

SCI = """
[[sci]]
id = "sup-deals"
name = "Support deals"
mode = "two_way"
jira_projects = ["SUP"]
jira_issue_type = "Task"
zoho = { system = "crm", module = "Deals" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, text), env or {})
    return str(info.value)


def test_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "deploy" / "bridge.example.toml"
    loaded = config.load(example, {})
    assert loaded.http.port == 8080
    assert loaded.sci == []


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[http]\nport = "eighty"\n')
    assert "http.port" in message and "'eighty'" in message and "int" in message


def test_enum_lists_allowed_values(tmp_path: Path) -> None:
    message = error_for(tmp_path, SCI.replace('"two_way"', '"twoway"'))
    assert "sci[0].mode" in message
    assert "'twoway'" in message
    assert "display, one_way, two_way, custom" in message


def test_unknown_key_lists_known_keys(tmp_path: Path) -> None:
    message = error_for(tmp_path, "[http]\nprot = 1\n")
    assert "prot" in message and "host, port, max_body_bytes" in message


def test_out_of_range_port(tmp_path: Path) -> None:
    message = error_for(tmp_path, "[http]\nport = 70000\n")
    assert "http.port" in message and "<= 65535" in message and "70000" in message


def test_invalid_toml_is_reported_with_file(tmp_path: Path) -> None:
    assert "not valid TOML" in error_for(tmp_path, "[http\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "absent.toml", {})


def test_sci_rule_violation_names_the_rule(tmp_path: Path) -> None:
    message = error_for(tmp_path, SCI.replace('jira_issue_type = "Task"\n', ""))
    assert "sci[0]" in message and "synchronized items need jira_issue_type" in message


def test_duplicate_sci_ids(tmp_path: Path) -> None:
    assert "used twice" in error_for(tmp_path, SCI + SCI)


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[http]\nport = 8080\n")
    loaded = config.load(path, {"BRIDGE_HTTP__PORT": "9100", "BRIDGE_DAEMON__LOG_LEVEL": "debug"})
    assert loaded.http.port == 9100
    assert loaded.daemon.log_level == "debug"


def test_environment_can_add_nested_sections(tmp_path: Path) -> None:
    env = {"BRIDGE_ZOHO__CRM__CLIENT_ID": "1000.ABC", "BRIDGE_ZOHO__CRM__DATA_CENTER": "EU"}
    loaded = config.load(write(tmp_path, ""), env)
    assert loaded.zoho.crm is not None
    assert (loaded.zoho.crm.client_id, loaded.zoho.crm.data_center) == ("1000.ABC", "EU")


def test_secrets_from_credentials_directory(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "jira-token").write_text("s3cret-token\n")
    text = '[jira]\nsite_url = "https://x.atlassian.net"\napi_token = "credential:jira-token"\n'
    loaded = config.load(write(tmp_path, text), {"CREDENTIALS_DIRECTORY": str(creds)})
    assert loaded.jira is not None
    assert isinstance(loaded.jira.api_token, Secret)
    assert loaded.jira.api_token == "s3cret-token"
    assert "s3cret" not in repr(loaded)


def test_missing_credential_is_a_clear_error(tmp_path: Path) -> None:
    text = '[jira]\nsite_url = "https://x.atlassian.net"\napi_token = "credential:nope"\n'
    message = error_for(tmp_path, text, {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "jira.api_token" in message and "cannot read secret file" in message


def test_secret_values_are_not_echoed_in_errors(tmp_path: Path) -> None:
    text = '[jira]\nsite_url = "https://x.atlassian.net"\napi_token = 12345678\n'
    message = error_for(tmp_path, text)
    assert "jira.api_token" in message and "12345678" not in message


def test_cli_check_config_exit_codes(tmp_path: Path) -> None:
    bad = write(tmp_path, '[http]\nport = "x"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "check-config", str(bad)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "http.port" in result.stderr
    assert "Traceback" not in result.stderr
    good = write(tmp_path, "")
    ok = subprocess.run(
        [sys.executable, "-m", "bridge", "check-config", str(good)],
        capture_output=True, text=True, check=False,
    )
    assert ok.returncode == 0 and "OK" in ok.stdout


def test_ui_user_needs_an_argon2_hash(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[[ui.user]]\nname = "ada"\npassword_hash = "plain"\n')
    assert "ui.user" in message and "bridge hash-password" in message


def test_ui_proxy_header_needs_proxy_addresses(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[ui]\ntrusted_proxy_header = "X-Remote-User"\n')
    assert "trusted_proxies" in message
    message = error_for(tmp_path, '[ui]\ntrusted_proxy_header = "X-User"\n'
                                  'trusted_proxies = ["proxy.local"]\n')
    assert "'proxy.local' is not an IP address or network" in message


def test_ui_session_key_is_checked_and_never_shown(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[ui]\nsession_key = "short-secret-value"\n')
    assert "ui.session_key must be a Fernet key" in message
    assert "short-secret-value" not in message


def test_non_utf8_config_names_the_file_and_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_bytes(b'[daemon]\nlog_level = "info" # caf\xe9\n')
    with pytest.raises(ConfigError) as info:
        config.load(path, {})
    assert str(path) in str(info.value) and "not UTF-8" in str(info.value)


def test_non_utf8_secret_file_names_the_file_not_the_secret(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_bytes(b"tok-s3cr\xe9t")
    text = f'[jira]\nsite_url = "https://x.atlassian.net"\napi_token = "file:{secret}"\n'
    message = error_for(tmp_path, text)
    assert "jira.api_token" in message and str(secret) in message and "UTF-8" in message
    assert "s3cr" not in message


@pytest.mark.parametrize(("jira", "warned"), [
    ('site_url = "https://x.atlassian.net"\n', True),
    ('site_url = "https://x.atlassian.net"\ndelivery = "both"\n', True),
    ('site_url = "https://x.atlassian.net"\ndelivery = "poll"\n', False),
    ('site_url = "https://x.atlassian.net"\nwebhook_secret = "s"\n', False),
])
def test_check_config_warns_when_webhooks_cannot_be_verified(tmp_path: Path, jira: str,
                                                             warned: bool) -> None:
    path = write(tmp_path, "[jira]\n" + jira)
    result = subprocess.run([sys.executable, "-m", "bridge", "check-config", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "OK" in result.stdout
    assert ("jira.webhook_secret" in result.stderr) is warned


def test_providers_mode_is_for_zoho_crm_only(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[zoho.projects]\nclient_id = "1000.X"\nmode = "providers"\n')
    assert "Zoho CRM only" in message
    loaded = config.load(write(tmp_path, '[zoho.crm]\nclient_id = "1000.X"\n'
                                         'mode = "providers"\n'), {})
    assert loaded.zoho.crm_providers
