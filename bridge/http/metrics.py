"""Prometheus metrics owned by the daemon (adapters define their own API-call metrics)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from actors.supervisor import ActorInfo

WEBHOOK_EVENTS = Counter(
    "bridge_webhook_events_total", "Webhook deliveries by outcome", ["source", "result"]
)
HTTP_REQUESTS = Counter(
    "bridge_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "bridge_http_request_seconds", "HTTP request handling time", ["route"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class ActorCollector(Collector):
    """Reads the supervisor's snapshot at scrape time (no bookkeeping on the hot path)."""

    def __init__(self, snapshot: Callable[[], list[ActorInfo]]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        actors = self._snapshot()
        states = GaugeMetricFamily("bridge_actors", "Actors by state", labels=["state"])
        for state in ("running", "backoff", "failed", "stopped"):
            states.add_metric([state], sum(1 for a in actors if a.state == state))
        restarts = CounterMetricFamily(
            "bridge_actor_restarts", "Actor restarts after a crash", labels=["sci"]
        )
        depth = GaugeMetricFamily("bridge_mailbox_depth", "Queued messages", labels=["sci"])
        failed = GaugeMetricFamily(
            "bridge_sci_failed", "1 when the SCI's actor gave up restarting", labels=["sci"]
        )
        for actor in actors:
            restarts.add_metric([actor.id], actor.restarts)
            depth.add_metric([actor.id], actor.mailbox_depth)
            failed.add_metric([actor.id], 1 if actor.state == "failed" else 0)
        yield from (states, restarts, depth, failed)


class ConnectionCollector(Collector):
    """Each configured connection's latest probe, read at scrape time: 1 when it answered
    (token valid, account reachable), 0 when readiness reports a problem for it."""

    def __init__(self, problems: Callable[[], dict[str, str]]) -> None:
        self._problems = problems

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("bridge_connection_up",
                               "1 when the connection's latest probe succeeded",
                               labels=["connection"])
        for name, problem in sorted(self._problems().items()):
            up.add_metric([name], 0 if problem else 1)
        yield up


def register_connection_metrics(problems: Callable[[], dict[str, str]]) -> Callable[[], None]:
    """Register the collector; returns the function that unregisters it."""
    collector = ConnectionCollector(problems)
    REGISTRY.register(collector)
    return lambda: REGISTRY.unregister(collector)


def register_actor_metrics(snapshot: Callable[[], list[ActorInfo]]) -> Callable[[], None]:
    """Register the collector; returns the function that unregisters it."""
    collector = ActorCollector(snapshot)
    REGISTRY.register(collector)
    return lambda: REGISTRY.unregister(collector)
