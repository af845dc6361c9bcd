"""Group commit: concurrent writes share one transaction, so they share one fsync.

Callers ``await submit(item)`` and get their own result only after the batch holding
their item is committed. One writer task commits a batch while the next one collects: an
idle writer commits the first item at once (no added latency); under load, everything
that arrived during one commit goes into the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bridge.store.base import StoreError

Item = TypeVar("Item")
Result = TypeVar("Result")
# Commits a batch; one entry per item, in order: its result, or the error that failed it alone.
CommitBatch = Callable[[list[Item]], Awaitable[list[Result | Exception]]]

MAX_BATCH = 200


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commit: CommitBatch[Item, Result], max_batch: int = MAX_BATCH) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def close(self) -> None:
        """Refuse new items, commit every item already submitted, then stop."""
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
            self._writer = None

    async def submit(self, item: Item) -> Result:
        if self._closing or self._writer is None or self._writer.done():
            raise StoreError("store is not open")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        try:
            while self._queue or not self._closing:
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
                await self._commit_batch(batch)
        finally:  # cancelled: nothing queued is acknowledged
            _fail(self._queue, _closed())
            self._queue = []

    async def _commit_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._commit([item for item, _ in batch])
        except Exception as exc:
            _fail(batch, exc)
            return
        except BaseException:
            _fail(batch, _closed())
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its caller was cancelled; the item is stored all the same
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


def _closed() -> StoreError:
    return StoreError("store stopped before the write was acknowledged; it may not be stored")


def _fail(entries: list[tuple[Item, asyncio.Future[Result]]], error: Exception) -> None:
    for _, future in entries:
        if not future.done():
            future.set_exception(error)
