"""Run every benchmark and print figures with ratios against a baseline from the same run."""

import anyio

from bench import webhook_ingest


async def main() -> None:
    await webhook_ingest.run()


anyio.run(main)
