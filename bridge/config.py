"""Configuration: one TOML file, every value overridable by ``BRIDGE_…`` environment variables.

* ``BRIDGE_HTTP__PORT=9000`` overrides ``[http] port``; ``__`` separates nesting levels
  (``BRIDGE_ZOHO__CRM__CLIENT_ID`` → ``[zoho.crm] client_id``).
* Secret values may be written as ``credential:NAME`` (read from ``$CREDENTIALS_DIRECTORY/NAME``,
  as systemd's ``LoadCredential=`` provides) or ``file:/path``; literals work but are discouraged.
* Bad config raises ``ConfigError`` naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from bridge.sci import SciConfig

ENV_PREFIX = "BRIDGE_"


class ConfigError(Exception):
    """A configuration problem a person can fix; the message says where and how."""


class Secret(str):
    """A string that never shows itself in reprs, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"


def reveal(value: str) -> str:
    """The plain string behind a ``Secret`` (for handing it to a client, never to a log)."""
    return str.__str__(value)


class Base(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class DaemonConfig(Base, frozen=True, kw_only=True):
    drain_timeout: Annotated[float, Meta(gt=0)] = 20.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Where Jira can reach this daemon; used when registering the webhook.
    public_url: str = ""


class HttpConfig(Base, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8080
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_048_576
    # A connection must send a complete request head within this many seconds of
    # connecting or of its previous response; idle keep-alive connections close then too.
    header_timeout: Annotated[float, Meta(gt=0)] = 10.0
    body_timeout: Annotated[float, Meta(gt=0)] = 20.0  # to receive a whole webhook body
    max_inflight_bodies: Annotated[int, Meta(ge=1)] = 64  # more get 503 + Retry-After


class StoreConfig(Base, frozen=True, kw_only=True):
    path: str = ""  # default: $STATE_DIRECTORY/bridge.db, else ./var/bridge.db
    encryption_key: str = ""  # Fernet key (secret reference); required once secrets are stored
    # Finished events, done write keys and sync history older than this are deleted.
    retention_days: Annotated[float, Meta(gt=0)] = 30.0


class SupervisorConfig(Base, frozen=True, kw_only=True):
    max_restarts: Annotated[int, Meta(ge=0)] = 5
    restart_window: Annotated[float, Meta(gt=0)] = 60.0
    backoff_base: Annotated[float, Meta(gt=0)] = 1.0
    backoff_cap: Annotated[float, Meta(gt=0)] = 60.0
    mailbox_size: Annotated[int, Meta(ge=1)] = 1000


class JiraConnection(Base, frozen=True, kw_only=True):
    site_url: str
    email: str = ""
    api_token: str = ""
    webhook_secret: str = ""
    delivery: Literal["webhook", "poll", "both"] = "webhook"
    requests_per_second: Annotated[float, Meta(gt=0)] = 10.0

    def __post_init__(self) -> None:
        if not self.site_url.startswith(("https://", "http://")):
            raise ValueError("site_url must start with https://")


DataCenter = Literal["US", "EU", "IN", "AU", "JP", "CN", "UK", "CA", "SA"]
# app: one shared token runs the sync; providers (Zoho CRM only): each panel user signs in
# to Zoho for their own panel actions, and no background automation runs.
AuthMode = Literal["app", "providers"]


class ZohoConnection(Base, frozen=True, kw_only=True):
    mode: AuthMode = "app"
    data_center: DataCenter = "US"
    client_id: str
    client_secret: str = ""
    refresh_token: str = ""
    grant_code: str = ""
    accounts_url: str = ""  # overrides the data center's accounts host
    api_url: str = ""  # overrides the data center's API host
    requests_per_second: Annotated[float, Meta(gt=0)] = 5.0


class ZohoConfig(Base, frozen=True, kw_only=True):
    crm: ZohoConnection | None = None
    projects: ZohoConnection | None = None

    def __post_init__(self) -> None:
        if self.projects is not None and self.projects.mode != "app":
            raise ValueError("zoho.projects.mode: Providers (per-user sign-in) is for Zoho CRM "
                             "only; Zoho Projects connects with App OAuth 2.0 (mode = \"app\")")

    @property
    def crm_providers(self) -> bool:
        """Zoho CRM in Providers mode: per-user panel sign-in, no background automation."""
        return self.crm is not None and self.crm.mode == "providers"


Role = Literal["admin", "user"]


class UiUser(Base, frozen=True, kw_only=True):
    name: Annotated[str, Meta(min_length=1)]
    password_hash: str  # argon2, from `bridge hash-password`
    role: Role = "user"

    def __post_init__(self) -> None:
        if not self.password_hash.startswith("$argon2"):
            raise ValueError(
                f"ui.user {self.name!r}: password_hash must be an argon2 hash "
                "(print one with `bridge hash-password`)"
            )


class UiConfig(Base, frozen=True, kw_only=True):
    user: list[UiUser] = []
    session_key: str = ""  # Fernet key (secret reference); default: generated beside the store
    session_max_age: Annotated[int, Meta(ge=60)] = 12 * 3600
    # Unset: the cookie is Secure unless the daemon listens on loopback (plain local http).
    # Set true when a TLS proxy on this machine forwards to a loopback address.
    secure_cookie: bool | None = None
    # Identity from a reverse proxy: honoured only on requests from ``trusted_proxies``.
    trusted_proxy_header: str = ""
    trusted_proxies: list[str] = []
    login_attempts: Annotated[int, Meta(ge=1)] = 5  # failed sign-ins per address and window
    login_window: Annotated[float, Meta(gt=0)] = 300.0
    # The issue panel re-reads a link's associated records when its copy is older than this.
    associated_max_age: Annotated[float, Meta(ge=0)] = 600.0

    def __post_init__(self) -> None:
        names = [user.name for user in self.user]
        if len(names) != len(set(names)):
            raise ValueError("ui.user names must be unique")
        if self.session_key and not _is_fernet_key(reveal(self.session_key)):
            raise ValueError(
                "ui.session_key must be a Fernet key (32 url-safe base64 bytes), e.g. from "
                '`python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`'
            )
        if self.trusted_proxy_header and not self.trusted_proxies:
            raise ValueError("ui.trusted_proxy_header needs ui.trusted_proxies (proxy addresses)")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"ui.trusted_proxies: {proxy!r} is not an IP address or network"
                ) from None


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


class Config(Base, frozen=True, kw_only=True):
    daemon: DaemonConfig = DaemonConfig()
    http: HttpConfig = HttpConfig()
    store: StoreConfig = StoreConfig()
    supervisor: SupervisorConfig = SupervisorConfig()
    jira: JiraConnection | None = None
    zoho: ZohoConfig = ZohoConfig()
    ui: UiConfig = UiConfig()
    sci: list[SciConfig] = []

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for index, item in enumerate(self.sci):
            if item.id in seen:
                raise ValueError(f"sci[{index}].id {item.id!r} is used twice")
            seen.add(item.id)

    def database_path(self) -> Path:
        if self.store.path:
            return Path(self.store.path)
        state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        return Path(state or "var") / "bridge.db"


def warnings(config: Config) -> list[str]:
    """Valid settings that still keep the daemon from working as configured."""
    jira = config.jira
    if jira is not None and jira.delivery != "poll" and not jira.webhook_secret:
        return [f"jira.webhook_secret is not set but jira.delivery = {jira.delivery!r}: every "
                "webhook delivery will be refused with 401 (set the secret, or deliver by poll)"]
    return []


SECRET_KEYS = frozenset(
    {
        "api_token", "webhook_secret", "client_secret", "refresh_token", "grant_code",
        "encryption_key", "session_key",
    }
)


# -- loading --------------------------------------------------------------------------
def load(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    raw = _read_toml(Path(path))
    _apply_env(raw, environ)
    _resolve_secrets(raw, environ, ())
    try:
        return msgspec.convert(raw, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(explain(exc, raw)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {not_utf8(exc)}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        node = raw
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"environment {name}: {'.'.join(keys[:-1])} is not a section")
            node = child
        node[keys[-1]] = value


def _resolve_secrets(node: Any, environ: Mapping[str, str], path: tuple[str, ...]) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _resolve_secrets(item, environ, (*path, str(index)))
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in SECRET_KEYS and isinstance(value, str):
            node[key] = Secret(_read_secret(value, environ, ".".join((*path, key))))
        else:
            _resolve_secrets(value, environ, (*path, key))


def _read_secret(value: str, environ: Mapping[str, str], key: str) -> str:
    if value.startswith("credential:"):
        directory = environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise ConfigError(
                f"{key}: refers to {value!r} but $CREDENTIALS_DIRECTORY is not set "
                "(use LoadCredential= in the unit, or file:/path)"
            )
        target = Path(directory) / value.removeprefix("credential:")
    elif value.startswith("file:"):
        target = Path(value.removeprefix("file:"))
    else:
        return value
    if "\0" in str(target):
        raise ConfigError(f"{key}: secret file path {str(target)!r} contains a NUL byte")
    try:
        return target.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read secret file {target}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{key}: secret file {target}: {not_utf8(exc)}") from None


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Where the bad byte is, never what is around it (the file may hold a secret)."""
    return f"not UTF-8 (invalid byte at offset {exc.start}); save the file as UTF-8"


# -- error messages ---------------------------------------------------------------------
def explain(exc: msgspec.ValidationError, raw: Mapping[str, Any], root: Any = None) -> str:
    """Turn msgspec's message into: key, bad value, what is allowed. ``root``: the type
    ``raw`` was decoded as (default: the whole config)."""
    message, key = split_error(exc)
    steps = _steps(key)
    annotation = _annotation_at(root or Config, steps)
    parts = [f"config key `{key or '(top level)'}`: {message}"]
    if "unknown field" not in message:
        found, value = _value_at(raw, steps)
        if found and not isinstance(value, dict | list):
            shown = "***" if steps and steps[-1] in SECRET_KEYS else repr(value)
            parts.append(f"got {shown}")
    allowed = _allowed(annotation, message)
    if allowed:
        parts.append(f"allowed: {allowed}")
    return "; ".join(parts)


def split_error(exc: msgspec.ValidationError) -> tuple[str, str]:
    """(msgspec's message, the dotted key it is about, "" for the top level)."""
    text = str(exc)
    message, _, where = text.rpartition(" - at `") if " - at `" in text else (text, "", "$")
    return message, where.rstrip("`").removeprefix("$").lstrip(".")


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for token in path.replace("[", ".[").split("."):
        if not token:
            continue
        # ``[...]`` stands for a dict key msgspec does not name; it stays a (missing) key.
        steps.append(int(token[1:-1]) if token[1:-1].isdigit() else token)
    return steps


def _unwrap(tp: Any) -> Any:
    """Strip ``X | None`` and ``list[X]`` down to X."""
    if typing.get_origin(tp) is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else tp
    return tp


def _annotation_at(tp: Any, steps: list[str | int]) -> Any:
    for step in steps:
        tp = _unwrap(tp)
        if isinstance(step, int):
            args = typing.get_args(tp)
            tp = args[0] if args else Any
        elif isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            tp = typing.get_type_hints(tp, include_extras=True).get(step, Any)
        else:
            return Any
    return tp


def _value_at(raw: Any, steps: list[str | int]) -> tuple[bool, Any]:
    node = raw
    for step in steps:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return False, None
    return True, node


def _allowed(annotation: Any, message: str) -> str:
    target = _unwrap(annotation)
    if typing.get_origin(target) is Literal:
        return ", ".join(str(v) for v in typing.get_args(target))
    if "unknown field" in message and isinstance(target, type) and issubclass(
        target, msgspec.Struct
    ):
        return "keys " + ", ".join(target.__struct_fields__)
    return ""
