"""The Grafana dashboard and the Prometheus alert rules in ``deploy/`` only query metrics
the daemon really exports, and the rules pass ``promtool check rules`` where it exists."""

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import adapters.http  # noqa: F401  (registers the API-call metrics)
import bridge.engine.metrics  # noqa: F401
from actors.supervisor import ActorInfo
from bridge.http.metrics import register_actor_metrics, register_connection_metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\bbridge_[a-z0-9_]+\b")
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",),
            "histogram": ("_bucket", "_sum", "_count", "_created")}


def exported() -> set[str]:
    """Every series name the daemon's registry can expose, labelled or not."""
    unregister = [register_actor_metrics(lambda: list[ActorInfo]()),
                  register_connection_metrics(dict)]
    try:
        return {family.name + suffix for family in REGISTRY.collect()
                for suffix in SUFFIXES.get(family.type, ("",))}
    finally:
        for undo in unregister:
            undo()


def dashboard_queries() -> Iterator[str]:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]
    for variable in dashboard["templating"]["list"]:
        yield variable["definition"]


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_dashboard_queries_only_exported_metrics() -> None:
    queries = list(dashboard_queries())
    used = {name for query in queries for name in METRIC.findall(query)}
    assert queries and all(METRIC.search(q) for q in queries), "a query names no metric"
    assert used - exported() == set()


def test_the_dashboard_covers_what_operators_watch() -> None:
    used = {name for query in dashboard_queries() for name in METRIC.findall(query)}
    assert {"bridge_sync_latency_seconds_bucket", "bridge_outbox_depth",
            "bridge_api_calls_total", "bridge_api_rate_limited_total",
            "bridge_sync_errors_total", "bridge_conflicts_total", "bridge_parked_items",
            "bridge_actor_restarts_total", "bridge_connection_up"} <= used


def test_the_alert_rules_query_only_exported_metrics() -> None:
    rules = alert_rules()
    used = {name for rule in rules for name in METRIC.findall(rule["expr"])}
    assert {"BridgeSciFailed", "BridgeOutboxGrowing", "BridgeConnectionUnhealthy",
            "BridgeNoSuccessfulPoll"} <= {rule["alert"] for rule in rules}
    assert all(METRIC.search(rule["expr"]) for rule in rules)
    assert used - exported() == set()


def test_the_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed here (it ships with Prometheus)")
    checked = subprocess.run([promtool, "check", "rules", str(DEPLOY / "prometheus-alerts.yml")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
