"""Config decoding under arbitrary input: a valid ``Config`` or a ``ConfigError`` that names
the key at fault, never another exception."""

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bridge import config
from bridge.config import Config, ConfigError

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

VALID: dict[str, Any] = {
    "daemon": {"drain_timeout": 20.0, "log_level": "info", "public_url": "https://b.example"},
    "http": {"host": "127.0.0.1", "port": 8080, "max_body_bytes": 1_048_576},
    "store": {"path": "var/bridge.db", "encryption_key": ""},
    "supervisor": {"max_restarts": 5, "restart_window": 60.0, "backoff_base": 1.0,
                   "backoff_cap": 60.0, "mailbox_size": 1000},
    "jira": {"site_url": "https://x.atlassian.net", "email": "ops@x.example",
             "api_token": "t0k3n", "webhook_secret": "s3cret", "delivery": "webhook",
             "requests_per_second": 10.0},
    "zoho": {"crm": {"data_center": "EU", "client_id": "1000.ABC", "client_secret": "cs",
                     "refresh_token": "rt", "requests_per_second": 5.0}},
    "sci": [{
        "id": "sup-deals", "name": "Support deals", "mode": "two_way",
        "jira_projects": ["SUP"], "jira_issue_type": "Task",
        "zoho": {"system": "crm", "module": "Deals"},
        "poll_interval": 30.0, "status_sync": True, "status_field": "Stage",
        "status_map": {"Closed Won": "Done"}, "attachment_max_bytes": 1024,
        "mappings": [{"jira": "summary", "zoho": "Deal_Name"}],
        "rule": {"field": "Stage", "operator": "equals", "value": "Open",
                 "status_when_met": "Open", "status_when_not_met": "Done"},
    }],
}


# -- TOML writing (tests only: the product never writes config) ---------------------------
def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # nan, inf and 1e+16 are TOML as written
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_document(tables: dict[str, Any]) -> str:
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in tables.items())


# -- strategies ----------------------------------------------------------------------------
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
SCALARS = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), TEXT,
    st.sampled_from(["", "file:", "file:/nonexistent", "file:/", "file:\x00",
                     "credential:", "credential:x", "credential:../\x00", "https://"]),
    st.dates(), st.times(), st.datetimes(timezones=st.none() | st.just(dt.UTC)),
)
TOML_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8)


def key_paths(node: Any, prefix: str = "") -> list[str]:
    """Every key of ``VALID`` in msgspec's notation: ``http.port``, ``sci[0].zoho.module``.
    Free-form maps (``status_map``) count as one key: their whole value is fuzzed."""
    children = (node.items() if isinstance(node, dict)
                else ((f"[{i}]", v) for i, v in enumerate(node)) if isinstance(node, list)
                else ())
    paths = []
    for key, child in children:
        path = f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}".lstrip(".")
        paths += [path, *(key_paths(child, path) if key != "status_map" else [])]
    return paths


def replaced(document: Any, path: str, value: Any) -> Any:
    steps = [int(s[1:]) if s.startswith("[") else s
             for s in path.replace("[", ".[").replace("]", "").split(".")]
    copy = json.loads(json.dumps(document))
    node = copy
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value
    return copy


def named_key(message: str) -> str:
    """The key a ConfigError starts with: ``config key `http.port`: …`` or ``jira.x: …``."""
    found = re.match(r"config key `([^`]*)`|([^:]*):", message)
    assert found, message
    return found.group(1) or found.group(2)


def on_one_branch(key: str, path: str) -> bool:
    """``sci[0]`` and ``sci[0].zoho.module`` are: a cross-field check names the item that
    holds the fields, a value of the wrong shape may be reported at the key inside it."""
    short, long = sorted((key, path), key=len)
    return long == short or long.startswith((short + ".", short + "["))


def load_text(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str | None:
    """None when the text is a valid config, else the ConfigError's message."""
    path = tmp_path / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    try:
        loaded = config.load(path, environ or {})
    except ConfigError as exc:
        return str(exc)
    assert isinstance(loaded, Config)
    return None


# -- properties ------------------------------------------------------------------------------
def test_the_fuzzing_base_is_a_valid_config(tmp_path: Path) -> None:
    assert load_text(tmp_path, toml_document(VALID)) is None


@FUZZ
@given(path=st.sampled_from(key_paths(VALID)), value=TOML_VALUES)
@example(path="sci[0].status_map", value={"Closed Won": 1})  # a dict value of the wrong type
@example(path="jira.webhook_secret", value="file:\x00")
def test_any_value_in_a_known_key_fails_naming_that_key(
        tmp_path: Path, path: str, value: Any) -> None:
    message = load_text(tmp_path, toml_document(replaced(VALID, path, value)))
    if message is not None:
        assert on_one_branch(named_key(message), path), message


TOML_ISH_LINES = st.one_of(
    st.sampled_from(["[http]", "[daemon]", "[store]", "[supervisor]", "[jira]", "[zoho]",
                     "[zoho.crm]", "[[sci]]", "[sci.zoho]", "[[sci.mappings]]", "[sci.rule]",
                     "[sci.status_map]", "[[http]]", "["]),
    st.builds(lambda key, value: f"{key} = {toml_value(value)}",
              st.sampled_from(sorted({p.rsplit(".", 1)[-1] for p in key_paths(VALID)
                                      if not p.endswith("]")})),
              TOML_VALUES),
    TEXT,
)


@FUZZ
@given(lines=st.lists(TOML_ISH_LINES, max_size=12))
def test_toml_ish_text_loads_or_fails_with_config_error(tmp_path: Path, lines: list[str]) -> None:
    load_text(tmp_path, "\n".join(lines))


@FUZZ
@given(names=st.lists(st.lists(st.sampled_from(["http", "port", "sci", "jira", "zoho", "crm",
                                                "", "x"]), min_size=1, max_size=4),
                      max_size=3),
       value=TEXT)
def test_environment_overrides_load_or_fail_with_config_error(
        tmp_path: Path, names: list[list[str]], value: str) -> None:
    environ = {"BRIDGE_" + "__".join(name).upper(): value for name in names}
    load_text(tmp_path, toml_document(VALID), environ)
