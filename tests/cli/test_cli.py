"""Operator CLI: listings (tables and --json), replay, tokens, password hashes."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from argon2 import PasswordHasher

from bridge.admin.tokens import authenticate, token_hash
from bridge.cli import main
from bridge.config import load
from bridge.daemon import save_scis, secret_box
from bridge.store import SqliteStore
from tests.api.harness import seed

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
