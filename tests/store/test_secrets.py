from pathlib import Path

import pytest

from bridge.secretbox import SecretBox, SecretBoxError
from bridge.store import Connection, SqliteStore
from tests.store.conftest import OpenStore

TOKEN = "1000.supersecret-refresh-token"


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox(SecretBox.generate_key())
    sealed = box.seal(TOKEN)
    assert TOKEN not in sealed and box.open(sealed) == TOKEN
    assert box.seal(TOKEN) != sealed  # fresh IV per seal: equal secrets do not look equal
    with pytest.raises(SecretBoxError, match="store key differs") as caught:
        SecretBox(SecretBox.generate_key()).open(sealed)
    assert TOKEN not in str(caught.value) and sealed not in str(caught.value)
    assert "key" in repr(box) and SecretBox.generate_key().decode() not in repr(box)


def test_an_invalid_key_is_a_clear_error() -> None:
    with pytest.raises(SecretBoxError, match="not a valid Fernet key"):
        SecretBox(b"short")


async def test_connection_secrets_are_encrypted_at_rest(
        open_store: OpenStore, tmp_path: Path) -> None:
    store = await open_store()
    await store.put_connection(Connection(name="crm", kind="zoho_crm", settings={"dc": "eu"},
                                          secrets={"refresh_token": TOKEN}))
    loaded = await store.get_connection("crm")
    assert loaded is not None
    assert (loaded.secrets, loaded.settings) == ({"refresh_token": TOKEN}, {"dc": "eu"})
    assert TOKEN not in repr(loaded) and TOKEN not in str(loaded)
    await store.close()
    files = list(tmp_path.glob("bridge.db*"))
    assert files
    assert all(TOKEN.encode() not in path.read_bytes() for path in files)


async def test_a_different_store_key_cannot_read_secrets(
        open_store: OpenStore, tmp_path: Path) -> None:
    store = await open_store()
    await store.put_connection(Connection(name="jira", kind="jira", secrets={"api_token": TOKEN}))
    await store.close()
    other = await open_store(box_key=SecretBox.generate_key())
    with pytest.raises(SecretBoxError, match="store key differs"):
        await other.get_connection("jira")
    with pytest.raises(SecretBoxError):
        await other.list_connections()


def test_store_repr_hides_the_key(tmp_path: Path) -> None:
    key = SecretBox.generate_key()
    assert key.decode() not in repr(SqliteStore(tmp_path / "x.db", SecretBox(key)).__dict__)
