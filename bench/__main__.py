"""``python -m bench`` runs every benchmark; ``python -m bench NAME...`` runs those named;
``--quick`` (or ``BENCH_QUICK=1``) makes the sync benchmarks short."""

from __future__ import annotations

import os
import sys

import anyio

from bench import (
    api_efficiency,
    backfill,
    jira_to_zoho_latency,
    report,
    scale,
    webhook_ingest,
    zoho_to_jira_latency,
)
from bridge import logging as bridge_logging

BENCHMARKS: dict[str, report.Benchmark] = {
    "webhook_ingest": webhook_ingest.run,
    "jira_to_zoho_latency": jira_to_zoho_latency.run,
    "zoho_to_jira_latency": zoho_to_jira_latency.run,
    "api_efficiency": api_efficiency.run,
    "scale": scale.run,
    "backfill": backfill.run,
}


def main(args: list[str]) -> int:
    if "--quick" in args:
        os.environ["BENCH_QUICK"] = "1"
    names = [a for a in args if a != "--quick"]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from: {', '.join(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    bridge_logging.configure("warning")
    for name in names or BENCHMARKS:
        figures = anyio.run(BENCHMARKS[name])
        path = report.write(name, figures)
        print(f"{name}: {report.summary(figures)}\n  written to {path}")
    return 0


sys.exit(main(sys.argv[1:]))
