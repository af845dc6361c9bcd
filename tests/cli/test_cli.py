"""Operator CLI: listings (tables and --json), replay, tokens, password hashes."""

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from argon2 import PasswordHasher

from bridge.admin.sci_edits import create_sci
from bridge.admin.tokens import authenticate, create_token, token_hash
from bridge.cli import main
from bridge.config import load
from bridge.daemon import save_scis, secret_box
from bridge.engine import state as link_state
from bridge.runtime import Runtime
from bridge.store import SqliteStore, SyncEntry
from tests.api.harness import LiveServer, seed

CONFIG = """
[store]
path = "{db}"

[[sci]]
id = "support-cases"
name = "Support tasks"
mode = "two_way"
jira_projects = ["SUP"]
jira_issue_type = "Task"
zoho = {{ system = "crm", module = "Cases" }}
comments = true
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG.format(db=tmp_path / "bridge.db"))
    config = load(path, {})

    async def prepare() -> None:
        store = SqliteStore(config.database_path(), secret_box(config))
        await store.open()
        await save_scis(store, config)
        await seed(store)
        await store.close()

    anyio.run(prepare)
    return path


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fold long cells at the terminal width; make it wide enough to read whole."""
    monkeypatch.setenv("COLUMNS", "250")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_scis_table_and_json(config_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "scis", "--config", str(config_path))
    assert code == 0 and "support-cases" in out and "CRM · Cases" in out and "comments" in out
    code, out, _ = run(capsys, "scis", "--config", str(config_path), "--json")
    (item,) = json.loads(out)
    assert item["id"] == "support-cases" and item["dead_letters"] == 2
    assert item["actor"]["state"] == "not_running"  # the CLI runs no actors


@pytest.fixture
def links(config_path: Path) -> dict[str, str]:
    """Two links of support-cases: SUP-1 by hand (synced, with a problem), SUP-7 automatic."""
    config = load(config_path, {})

    async def prepare() -> dict[str, str]:
        store = SqliteStore(config.database_path(), secret_box(config))
        await store.open()
        try:
            manual = await store.create_link("support-cases", "10001", "SUP-1",
                                             "5725767000000412001", "manual")
            auto = await store.create_link("support-cases", "10007", "SUP-7",
                                           "5725767000000412007", "auto")
            now = time.time()
            await store.put_synced_state(manual.id, link_state.dump(link_state.LinkState(
                synced_at=now - 90, problems=["Zoho refused Priority 'Urgent' [INVALID_DATA]"])))
            await store.record_sync(SyncEntry(
                sci_id="support-cases", direction="jira_to_zoho", started_at=now - 91,
                finished_at=now - 90, changes=0, errors=1, link_id=manual.id,
                summary="jira:issue_updated SUP-1: Zoho refused Priority 'Urgent'"))
            return {"SUP-1": manual.id, "SUP-7": auto.id}
        finally:
            await store.close()

    return anyio.run(prepare)


def test_links_of_an_sci_table_and_json(config_path: Path, links: dict[str, str],
                                        capsys) -> None:
    code, out, _ = run(capsys, "links", "--sci", "support-cases", "--config", str(config_path))
    assert code == 0 and "Links of SCI support-cases" in out
    for key, link_id in links.items():
        assert key in out and link_id in out
    assert "5725767000000412001" in out and "manual" in out and "auto" in out
    assert "synced 1 min ago" in out and "not synced yet" in out
    assert "Zoho refused Priority 'Urgent' [INVALID_DATA]" in out  # not eaten as markup
    code, out, _ = run(capsys, "links", "--sci", "support-cases", "--json",
                       "--config", str(config_path))
    found = {view["jira_issue_key"]: view for view in json.loads(out)}
    assert code == 0 and set(found) == {"SUP-1", "SUP-7"}
    manual, auto = found["SUP-1"], found["SUP-7"]
    assert manual["id"] == links["SUP-1"] and manual["sci_id"] == "support-cases"
    assert manual["zoho_record_id"] == "5725767000000412001" and manual["origin"] == "manual"
    assert manual["problems"] == ["Zoho refused Priority 'Urgent' [INVALID_DATA]"]
    assert manual["last"]["errors"] == 1 and manual["synced_at"] > 0
    assert auto["origin"] == "auto" and auto["read_only"] and auto["synced_at"] == 0


def test_links_of_an_issue(config_path: Path, links: dict[str, str], capsys) -> None:
    code, out, _ = run(capsys, "links", "--issue", "sup-7", "--config", str(config_path))
    assert code == 0 and "Links of SUP-7" in out and links["SUP-7"] in out
    assert links["SUP-1"] not in out
    code, out, _ = run(capsys, "links", "--issue", "SUP-1", "--json",
                       "--config", str(config_path))
    assert [view["id"] for view in json.loads(out)] == [links["SUP-1"]]


def test_links_empty_and_errors(config_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "links", "--sci", "support-cases", "--config", str(config_path))
    assert code == 0 and out.strip() == "No links for SCI support-cases."
    code, out, _ = run(capsys, "links", "--issue", "SUP-99", "--config", str(config_path))
    assert code == 0 and out.strip() == "No links for SUP-99."
    code, out, _ = run(capsys, "links", "--issue", "SUP-99", "--json",
                       "--config", str(config_path))
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, "links", "--sci", "nope", "--config", str(config_path))
    assert code == 1 and out == "" and err.strip() == "bridge: no SCI 'nope'"
    code, _, err = run(capsys, "links", "--issue", "not a key", "--config", str(config_path))
    assert code == 1 and "'not a key' is not a Jira issue key" in err
    for both_or_neither in (["--sci", "support-cases", "--issue", "SUP-1"], []):
        with pytest.raises(SystemExit) as exited:
            main(["links", "--config", str(config_path), *both_or_neither])
        assert exited.value.code == 2


def test_history_filters(config_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "history", "support-cases", "--config", str(config_path))
    assert code == 0 and "Printer fixed" in out
    code, out, _ = run(capsys, "history", "support-cases", "--errors-only", "--json",
                       "--config", str(config_path))
    assert [e["errors"] for e in json.loads(out)] == [1]
    code, _, err = run(capsys, "history", "nope", "--config", str(config_path))
    assert code == 1 and "no SCI 'nope'" in err


def test_dead_letters_list_replay_all(config_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "dead-letters", "--config", str(config_path), "--json")
    letters = json.loads(out)
    assert code == 0 and len(letters) == 2
    assert "Note_Content too long" in letters[0]["reason"]
    code, out, _ = run(capsys, "dead-letters", "--config", str(config_path),
                       "--replay", str(letters[0]["id"]))
    assert code == 0 and f"dead letter {letters[0]['id']} is queued again" in out
    code, _, err = run(capsys, "dead-letters", "--config", str(config_path),
                       "--replay", str(letters[0]["id"]))
    assert code == 1 and "no dead letter" in err
    code, out, _ = run(capsys, "dead-letters", "--config", str(config_path), "--all", "--json")
    assert json.loads(out)["replayed"] == [letters[1]["id"]]
    code, out, _ = run(capsys, "dead-letters", "--config", str(config_path))
    assert "No dead letters" in out


def test_token_is_printed_once_and_stored_hashed(config_path: Path, tmp_path: Path,
                                                 capsys) -> None:
    code, out, err = run(capsys, "token", "create", "--role", "admin", "--label", "ci",
                         "--config", str(config_path))
    token = out.strip()
    assert code == 0 and token.startswith("bzt_") and "shown only now" in err
    with sqlite3.connect(tmp_path / "bridge.db") as db:
        rows = db.execute("SELECT * FROM api_tokens").fetchall()
    assert len(rows) == 1 and token not in repr(rows) and token_hash(token) in rows[0]

    async def check() -> str | None:
        config = load(config_path, {})
        store = SqliteStore(config.database_path(), secret_box(config))
        await store.open()
        try:
            found = await authenticate(store, token)
            return found.role if found else None
        finally:
            await store.close()

    assert anyio.run(check) == "admin"
    code, out, _ = run(capsys, "token", "list", "--json", "--config", str(config_path))
    (listed,) = json.loads(out)
    assert listed["label"] == "ci" and token not in out
    assert run(capsys, "token", "revoke", listed["id"], "--config", str(config_path))[0] == 0
    assert anyio.run(check) is None
    code, _, err = run(capsys, "token", "revoke", listed["id"], "--config", str(config_path))
    assert code == 1 and "no API token" in err


def test_missing_store_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "other.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "absent.db"}"\n')
    code, _, err = run(capsys, "scis", "--config", str(path))
    assert code == 1 and "no store at" in err and not (tmp_path / "absent.db").exists()


def test_hash_password_reads_stdin_and_prints_an_argon2_hash() -> None:
    done = subprocess.run([sys.executable, "-m", "bridge", "hash-password"],
                          input="s3cret pass\n", capture_output=True, text=True, check=True)
    hashed = done.stdout.strip()
    assert hashed.startswith("$argon2id$") and "s3cret" not in done.stdout
    assert PasswordHasher().verify(hashed, "s3cret pass")
    empty = subprocess.run([sys.executable, "-m", "bridge", "hash-password"],
                           input="\n", capture_output=True, text=True)
    assert empty.returncode == 1 and "empty" in empty.stderr


# -- sync-now: the real admin API on a loopback port, the CLI as its client -------------------
@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The daemon logs to stdout, which is where the CLI's answers are read from here.
    with structlog.testing.capture_logs(), LiveServer(tmp_path_factory.mktemp("daemon")) \
            as server:
        yield server


def _client_config(tmp_path: Path, url: str) -> Path:
    """A config that reaches the daemon through its [http] section (bound to every address)."""
    port = int(url.rsplit(":", 1)[1])
    path = tmp_path / "client.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "client.db"}"\n\n'
                    f'[http]\nhost = "0.0.0.0"\nport = {port}\n')
    return path


def _token(server: LiveServer, role: str) -> str:
    assert server.runtime is not None
    _, token = server.call(create_token, server.runtime.store, role, "cli tests")
    return str(token)


def test_sync_now_asks_the_running_daemon(daemon: LiveServer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert daemon.runtime is not None
    token = _token(daemon, "admin")
    monkeypatch.setenv("BRIDGE_API_TOKEN", token)
    config = _client_config(tmp_path, daemon.url)
    code, out, err = run(capsys, "sync-now", "support-cases", "--config", str(config))
    assert (code, out.strip(), err) == (0, "sync requested", "")
    deadline = time.monotonic() + 10
    while not any(e.summary.startswith("manual:") for e in
                  daemon.call(daemon.runtime.store.recent_syncs, "support-cases")):
        assert time.monotonic() < deadline, "the actor never polled"
        time.sleep(0.05)
    code, out, err = run(capsys, "sync-now", "support-cases", "--json", "--config", str(config),
                         "--url", daemon.url + "/")
    assert code == 0 and json.loads(out) == {
        "sci_id": "support-cases", "accepted": True, "detail": "sync requested"}
    assert token not in out + err


def test_sync_now_shows_the_daemons_problem(daemon: LiveServer, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("BRIDGE_API_TOKEN", _token(daemon, "admin"))
    config = _client_config(tmp_path, daemon.url)
    code, out, err = run(capsys, "sync-now", "missing", "--config", str(config))
    assert code == 1 and out == ""
    assert err.strip() == "bridge: no SCI 'missing' (HTTP 404)"


def test_sync_now_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys) -> None:
    monkeypatch.delenv("BRIDGE_API_TOKEN", raising=False)
    config = _client_config(tmp_path, "http://127.0.0.1:9")
    code, out, err = run(capsys, "sync-now", "support-cases", "--config", str(config))
    assert code == 1 and out == ""
    assert err.strip() == ("bridge: set BRIDGE_API_TOKEN to an admin API token "
                           "(bridge token create --role admin)")


def test_sync_now_refused_token(daemon: LiveServer, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    config = _client_config(tmp_path, daemon.url)
    for token, why in (("bzt_not-a-real-token", "HTTP 401: unknown, revoked or malformed"),
                       (_token(daemon, "user"), "HTTP 403: token:")):
        monkeypatch.setenv("BRIDGE_API_TOKEN", token)
        code, out, err = run(capsys, "sync-now", "support-cases", "--config", str(config))
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
        assert err.startswith(f"bridge: the daemon refused the token ({why}")
        assert "bridge token create --role admin" in err and token not in err


def test_sync_now_unreachable_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys) -> None:
    monkeypatch.setenv("BRIDGE_API_TOKEN", "bzt_whatever-it-is")
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    config = _client_config(tmp_path, url)
    for extra in ([], ["--url", url]):
        code, out, err = run(capsys, "sync-now", "support-cases", "--config", str(config),
                             *extra)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
        assert err.startswith(f"bridge: cannot reach the daemon at {url}: ")
        assert "bzt_whatever-it-is" not in err
    code, _, err = run(capsys, "sync-now", "support-cases", "--config", str(config),
                       "--url", "localhost:8080")
    assert code == 1 and "--url must be the daemon's http:// or https:// address" in err


def test_backfill_creates_the_missing_issues_and_reports(daemon: LiveServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys) -> None:
    assert daemon.runtime is not None
    runtime = daemon.runtime
    daemon.call(create_sci, runtime, {
        "id": "eng-cases", "name": "Engineering ⇄ cases", "mode": "two_way",
        "jira_projects": ["ENG"], "jira_issue_type": "Task", "auto_create": True,
        "zoho": {"system": "crm", "module": "Cases"},
        "mappings": [{"jira": "summary", "zoho": "Subject"}]})
    cases = len(daemon.call(_all_cases, runtime))
    monkeypatch.setenv("BRIDGE_API_TOKEN", _token(daemon, "admin"))
    config = _client_config(tmp_path, daemon.url)
    code, out, err = run(capsys, "backfill", "eng-cases", "--json", "--config", str(config))
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["records_read"] >= cases > 0
    assert result["links"] == cases  # each case got its issue, none twice
    code, out, err = run(capsys, "backfill", "eng-cases", "--config", str(config))
    assert code == 0 and f"done: {result['records_read']} record(s) read, {cases} link(s)" in out
    assert len(daemon.call(runtime.store.list_links, "eng-cases")) == cases  # no duplicates
    code, _, err = run(capsys, "backfill", "engineering-deals", "--config", str(config))
    assert code == 1 and "display item" in err


async def _all_cases(runtime: Runtime) -> list[Any]:
    assert runtime.connections is not None
    crm = runtime.connections().crm
    assert crm is not None
    client = await crm.crm_client()
    return [r async for r in client.records("Cases", ["Subject"])]
