"""Run every benchmark and print figures with ratios against a baseline from the same run."""

import anyio

from bench import webhook_ingest
from bridge import logging as bridge_logging


async def main() -> None:
    bridge_logging.configure("warning")
    await webhook_ingest.run()


anyio.run(main)
