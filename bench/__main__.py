"""``python -m bench`` runs every benchmark; ``python -m bench NAME...`` runs those named."""

from __future__ import annotations

import sys

import anyio

from bench import report, webhook_ingest
from bridge import logging as bridge_logging

BENCHMARKS: dict[str, report.Benchmark] = {
    "webhook_ingest": webhook_ingest.run,
}


def main(names: list[str]) -> int:
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
