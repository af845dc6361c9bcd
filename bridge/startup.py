"""What must hold before the daemon may start, each failure one line naming the file and the fix.

The checks run before READY and never change data: the port is probed before the store is
opened, a store key is created only while no secret is sealed with another one, and a key
that cannot decrypt the stored secrets stops the start instead of a later crash.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import structlog

from bridge.config import Config, HttpConfig
from bridge.secretbox import SecretBox, SecretBoxError
from bridge.store import Store, StoreError, create_state_directory, has_sealed_secrets

KEY_HINT = ("a Fernet key is 32 url-safe base64-encoded bytes, e.g. from python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'")
log = structlog.get_logger("bridge.startup")

NEVER_A_NEW_KEY = "restore it from your backup (a new key cannot decrypt the stored secrets)"


class StartupError(Exception):
    """The daemon cannot start; the message names the file or setting and what to do."""


# -- listen address -------------------------------------------------------------------
def check_port(http: HttpConfig) -> None:
    """Refuse early when the listen address is taken (a later race is reported the same)."""
    if http.port == 0:
        return
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
                http.host, http.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server
                probe.bind(address)
    except OSError as exc:
        raise cannot_listen(http, exc) from None


def cannot_listen(http: HttpConfig, exc: OSError) -> StartupError:
    reason = exc.strerror or str(exc)
    return StartupError(f"cannot listen on {http.host}:{http.port} ({reason}): stop the "
                        "process using it, or set http.host / http.port to a free address")


# -- store key ------------------------------------------------------------------------
def key_file(config: Config) -> Path:
    return config.database_path().with_name("store.key")


def key_origin(config: Config) -> str:
    return "store.encryption_key" if config.store.encryption_key else str(key_file(config))


def secret_box(config: Config) -> SecretBox:
    """The store's encryption key: configured, or the key file beside the database (created
    at the first start, never while secrets sealed with another key exist)."""
    if config.store.encryption_key:
        try:
            return SecretBox(config.store.encryption_key.encode())
        except SecretBoxError:
            raise StartupError(f"store.encryption_key is not a valid key: {KEY_HINT}") from None
    path = key_file(config)
    if not path.exists():
        return SecretBox(_create_key_file(path, config.database_path()))
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise StartupError(f"cannot read {path} ({exc.strerror}): make it a file readable "
                           f"by the service user, or {NEVER_A_NEW_KEY}") from None
    if not key:
        raise StartupError(f"{path} is empty: {NEVER_A_NEW_KEY}")
    try:
        return SecretBox(key)
    except SecretBoxError:
        raise StartupError(f"{path} does not hold a valid store key: {NEVER_A_NEW_KEY}") from None


def _create_key_file(path: Path, database: Path) -> bytes:
    try:
        sealed = has_sealed_secrets(database)
        create_state_directory(path.parent)
    except StoreError as exc:
        raise StartupError(str(exc)) from None
    if sealed:
        raise StartupError(f"{path} is missing but {database} holds secrets sealed with a "
                           f"store key: {NEVER_A_NEW_KEY}, or set store.encryption_key")
    key = SecretBox.generate_key()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, key)
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise StartupError(f"cannot create {path} ({exc.strerror}): make {path.parent} "
                           "writable for the service user") from None
    log.warning("store.key_generated", path=str(path))
    return key


# -- store ----------------------------------------------------------------------------
async def open_store(store: Store, config: Config) -> None:
    """Open (and migrate) the store, then prove the key decrypts what it holds."""
    try:
        await store.open()
    except StoreError as exc:
        raise StartupError(str(exc)) from None
    try:
        await store.list_connections()  # decrypts every stored secret
    except SecretBoxError:
        await store.close()
        raise StartupError(f"{key_origin(config)} does not decrypt the secrets stored in "
                           f"{config.database_path()}: {NEVER_A_NEW_KEY}") from None


def startup_error_in(group: BaseExceptionGroup[BaseException]) -> StartupError | None:
    """The start-up error a task group wrapped, when it is the only thing that went wrong."""
    matched, rest = group.split(StartupError)
    if matched is None or rest is not None:
        return None
    error: BaseException = matched
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error if isinstance(error, StartupError) else None
