"""A broken environment stops ``bridge run`` before READY: exit 2, one line on stderr that
names the file and what to do, and the data left exactly as it was."""

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import msgspec
import pytest

from bridge.secretbox import SecretBox
from bridge.store import Connection, SqliteStore


class Outcome(msgspec.Struct):
    returncode: int
    stdout: str
    stderr: str
    notified: list[str]

    @property
    def line(self) -> str:
        """The one line on stderr (fails when there is more or less)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        return lines[0]


class Setup:
    """A state directory, a config pointing at it, and a way to run ``bridge run``."""

    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp, self.port = tmp, port
        self.state = tmp / "state"
        self.state.mkdir()
        self.db = self.state / "bridge.db"
        self.key_file = self.state / "store.key"
        self.config = tmp / "bridge.toml"
        self.write_config()

    def write_config(self, extra: str = "", store_path: Path | None = None) -> None:
        self.config.write_text(
            f'[http]\nport = {self.port}\n[store]\npath = "{store_path or self.db}"\n{extra}')

    def run(self, wrapper: tuple[str, ...] = ()) -> Outcome:
        address = str(self.tmp / "notify.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(address)
            notify.setblocking(False)
            result = subprocess.run(
                [*wrapper, sys.executable, "-m", "bridge", "run", "--config", str(self.config)],
                capture_output=True, text=True, timeout=30, check=False,
                env={**os.environ, "NOTIFY_SOCKET": address},
            )
            notified = []
            while True:
                try:
                    notified.append(notify.recv(4096).decode())
                except BlockingIOError:
                    break
        os.unlink(address)
        return Outcome(result.returncode, result.stdout, result.stderr, notified)

    def refused(self, wrapper: tuple[str, ...] = ()) -> str:
        """Run, check the refusal contract, return the one line."""
        outcome = self.run(wrapper)
        assert outcome.returncode == 2, outcome.stderr + outcome.stdout[-2000:]
        assert "Traceback" not in outcome.stderr + outcome.stdout
        assert not any(m.startswith("READY=1") for m in outcome.notified)
        assert "daemon.ready" not in outcome.stdout
        return outcome.line

    def make_store(self, key: bytes, *, with_secret: bool = True,
                   write_key: bool = True) -> bytes:
        """A store (schema applied, optionally a sealed secret, the key file beside it unless
        told otherwise); returns what ``files`` returns."""
        if write_key:
            self.key_file.write_bytes(key)

        async def fill() -> None:
            store = SqliteStore(self.db, SecretBox(key))
            await store.open()
            if with_secret:
                await store.put_connection(Connection(name="jira", kind="jira",
                                                      secrets={"api_token": "tok-1"}))
            await store.close()

        asyncio.run(fill())
        return self.files()

    def files(self) -> bytes:
        """The data: the database and its write-ahead log (``-shm`` is only an index)."""
        return b"".join(p.read_bytes() for p in (self.db, self.db.with_name("bridge.db-wal"))
                        if p.exists())


@pytest.fixture
def setup(tmp_path: Path, free_port) -> Setup:
    return Setup(tmp_path, free_port())


def read_only_mount(target: Path) -> tuple[str, ...]:
    """A wrapper that runs the command with ``target`` bind-mounted read-only (works as root,
    where permission bits do not stop writes)."""
    return ("unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(target))


@pytest.fixture(scope="module")
def can_mount_read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    probe = tmp_path_factory.mktemp("ro-probe")
    result = subprocess.run([*read_only_mount(probe), "true"], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip("needs unshare + mount (root in a mount namespace)")
    yield


def test_port_in_use(setup: Setup) -> None:
    with socket.create_server(("127.0.0.1", setup.port)):
        line = setup.refused()
    assert f"127.0.0.1:{setup.port}" in line and "http.port" in line
    assert not setup.db.exists()  # refused before the store was opened


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b"SQLite format 3\x00\x01"])
def test_corrupt_database(setup: Setup, content: bytes) -> None:
    setup.db.write_bytes(content)
    line = setup.refused()
    assert str(setup.db) in line and "backup" in line
    assert setup.files() == content


def test_truncated_database(setup: Setup) -> None:
    before = setup.make_store(SecretBox.generate_key(), with_secret=False)
    with setup.db.open("r+b") as db:
        db.truncate(len(before) // 2)
    truncated = setup.files()
    line = setup.refused()
    assert str(setup.db) in line and "corrupt" in line
    assert setup.files() == truncated


def test_store_path_is_a_directory(setup: Setup) -> None:
    setup.write_config(store_path=setup.state)
    line = setup.refused()
    assert str(setup.state) in line and "directory" in line


def test_state_directory_is_a_file(setup: Setup) -> None:
    blocker = setup.tmp / "not-a-dir"
    blocker.write_text("x")
    setup.write_config(store_path=blocker / "bridge.db")
    line = setup.refused()
    assert str(blocker) in line and "not a directory" in line


def test_schema_newer_than_this_build(setup: Setup) -> None:
    setup.make_store(SecretBox.generate_key())
    with closing(sqlite3.connect(setup.db)) as db, db:
        db.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)")
    before = setup.files()
    line = setup.refused()
    assert "newer" in line and str(setup.db) in line
    assert setup.files() == before


@pytest.mark.parametrize("content", [b"", b"\n", b"garbage key", b"\xff\xfe\x00"])
def test_bad_store_key_file(setup: Setup, content: bytes) -> None:
    setup.key_file.write_bytes(content)
    line = setup.refused()
    assert str(setup.key_file) in line
    assert setup.key_file.read_bytes() == content
    assert not setup.db.exists()


def test_unreadable_store_key_file(setup: Setup) -> None:
    setup.key_file.mkdir()  # reading it fails even as root
    line = setup.refused()
    assert str(setup.key_file) in line and "cannot read" in line


def test_invalid_encryption_key(setup: Setup) -> None:
    secret = setup.tmp / "store-key"
    secret.write_text("hunter2-is-not-a-fernet-key")
    setup.write_config(f'encryption_key = "file:{secret}"\n')  # lands in [store]
    outcome = setup.run()
    assert outcome.returncode == 2
    assert "store.encryption_key" in outcome.line
    assert "hunter2" not in outcome.stderr + outcome.stdout


def test_store_key_that_does_not_match_the_stored_secrets(setup: Setup) -> None:
    before = setup.make_store(SecretBox.generate_key())
    setup.key_file.write_bytes(SecretBox.generate_key())  # a different key
    line = setup.refused()
    assert str(setup.key_file) in line and "does not decrypt" in line
    assert b"tok-1" not in before and setup.files() == before


def test_missing_store_key_is_not_replaced_while_sealed_secrets_exist(setup: Setup) -> None:
    before = setup.make_store(SecretBox.generate_key(), write_key=False)
    line = setup.refused()
    assert str(setup.key_file) in line and "restore" in line
    assert not setup.key_file.exists()
    assert setup.files() == before


def test_non_utf8_config(setup: Setup) -> None:
    setup.config.write_bytes(setup.config.read_bytes() + b"# caf\xe9\n")
    line = setup.refused()
    assert str(setup.config) in line and "UTF-8" in line


def test_non_utf8_secret_file(setup: Setup) -> None:
    secret = setup.tmp / "hook-secret"
    secret.write_bytes(b"s\xe9cret")
    setup.write_config(f'[jira]\nsite_url = "http://127.0.0.1:9"\n'
                       f'webhook_secret = "file:{secret}"\n')
    line = setup.refused()
    assert str(secret) in line and "UTF-8" in line


def test_read_only_state_directory(setup: Setup, can_mount_read_only: None) -> None:
    line = setup.refused(read_only_mount(setup.state))
    assert str(setup.state) in line and "writ" in line
    assert list(setup.state.iterdir()) == []


def test_read_only_state_directory_with_a_store(setup: Setup, can_mount_read_only: None) -> None:
    before = setup.make_store(SecretBox.generate_key())
    line = setup.refused(read_only_mount(setup.state))
    assert str(setup.db) in line and "writ" in line
    assert setup.files() == before


def test_read_only_database_file(setup: Setup, can_mount_read_only: None) -> None:
    before = setup.make_store(SecretBox.generate_key())
    line = setup.refused(read_only_mount(setup.db))
    assert str(setup.db) in line and "writ" in line
    assert setup.files() == before
