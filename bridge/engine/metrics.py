"""Prometheus metrics of the sync engine."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

SYNC_LATENCY = Histogram(
    "bridge_sync_latency_seconds", "Change seen on one side → written to the other",
    ["direction"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
OUTBOX_DEPTH = Gauge("bridge_outbox_depth", "Writes waiting in the outbox", ["sci"])
INBOX_DEPTH = Gauge("bridge_inbox_depth", "Jira deliveries waiting for their pass", ["sci"])
QUEUE_AGE = Gauge("bridge_queue_age_seconds",
                  "Age of the oldest item waiting in the SCI's inbox or outbox (0: empty)",
                  ["sci", "queue"])
PARKED_ITEMS = Gauge("bridge_parked_items", "Links or records parked behind a dead letter",
                     ["sci"])
SYNC_ERRORS = Counter("bridge_sync_errors_total", "Sync errors by kind", ["sci", "kind"])
CONFLICTS = Counter("bridge_conflicts_total", "Fields changed on both sides", ["sci"])
LAST_POLL = Gauge("bridge_last_successful_poll_timestamp_seconds",
                  "When the SCI last read its Zoho changes without an error (epoch s)", ["sci"])
POLL_INTERVAL = Gauge("bridge_poll_interval_seconds", "The SCI's configured poll interval",
                      ["sci"])


def track_queue_age(sci: str, queue: str, oldest_at: float | None) -> None:
    """Read at scrape time, so a queue that stopped moving keeps ageing on the dashboard."""
    QUEUE_AGE.labels(sci, queue).set_function(
        (lambda: 0.0) if oldest_at is None else (lambda: max(0.0, time.time() - oldest_at)))
