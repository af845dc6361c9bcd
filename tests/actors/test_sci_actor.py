"""The SCI actor as a sequencer: separate deadlines, deferred inbox work, clean drain."""

import time

import anyio

from actors.mailbox import Mailbox
from actors.messages import InboxArrived, PollNow


class FakeEngine:
    def __init__(self, poll_interval: float = 0.2, inbox_failures: int = 0) -> None:
        self.poll_interval = poll_interval
        self.polls = 0
        self.inbox_passes = 0
        self.retries = 0
        self._inbox_failures = inbox_failures
        self.retry_at: float | None = None

    async def process_inbox(self) -> None:
        if self._inbox_failures:
            self._inbox_failures -= 1
            raise ConnectionError("Zoho unreachable")
        self.inbox_passes += 1

    async def poll(self, reason: str) -> int:
        self.polls += 1
        return 0

    async def retry_due(self) -> float | None:
        self.retries += 1
        due, self.retry_at = self.retry_at, None
        return due


async def run_for(engine: FakeEngine, seconds: float, feed=None) -> None:
    from actors.sci import SciActor

    mailbox = Mailbox(100)
    async with anyio.create_task_group() as group:
        group.start_soon(SciActor(engine).run, mailbox)
        if feed is not None:
            await feed(mailbox)
        else:
            await anyio.sleep(seconds)
        mailbox.request_stop()


async def test_steady_webhooks_do_not_starve_polling() -> None:
    engine = FakeEngine(poll_interval=0.2)

    async def webhook_every_50ms(mailbox: Mailbox) -> None:
        for n in range(24):
            mailbox.offer(InboxArrived(n))
            await anyio.sleep(0.05)

    await run_for(engine, 0, webhook_every_50ms)
    assert engine.inbox_passes >= 10
    assert engine.polls >= 3  # the poll deadline is kept while messages keep coming


async def test_failed_inbox_pass_is_retried_after_a_backoff_without_crashing() -> None:
    engine = FakeEngine(poll_interval=60, inbox_failures=1)
    await run_for(engine, 2.2)
    assert engine.inbox_passes == 1


async def test_manual_poll_runs_at_once_and_retry_deadline_is_honoured() -> None:
    engine = FakeEngine(poll_interval=60)
    engine.retry_at = time.time() + 0.2

    async def ask(mailbox: Mailbox) -> None:
        await anyio.sleep(0.05)
        mailbox.offer(PollNow("manual"))
        await anyio.sleep(0.4)

    await run_for(engine, 0, ask)
    assert engine.polls >= 1
    assert engine.retries >= 2  # once at start, once when the retry time came


class BackfillingEngine(FakeEngine):
    """Queued writes are always due, as during a long backfill; each turn takes a while."""

    async def retry_due(self) -> float | None:
        self.retries += 1
        await anyio.sleep(0.01)
        return time.time()


async def test_webhooks_are_handled_between_turns_of_queued_writes() -> None:
    engine = BackfillingEngine(poll_interval=60)

    async def webhook_every_50ms(mailbox: Mailbox) -> None:
        for n in range(5):
            mailbox.offer(InboxArrived(n))
            await anyio.sleep(0.05)

    await run_for(engine, 0, webhook_every_50ms)
    assert engine.retries >= 5
    assert engine.inbox_passes >= 5  # once at start, then one per webhook
