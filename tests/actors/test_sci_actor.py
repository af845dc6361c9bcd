"""The SCI actor as a sequencer: separate deadlines, deferred inbox work, clean drain."""

import time

import anyio

from actors.mailbox import Mailbox
from actors.messages import InboxArrived, PollNow


class FakeEngine:
    def __init__(self, poll_interval: float = 0.2, inbox_failures: int = 0,
                 changes_per_poll: int = 0) -> None:
        self.poll_interval = poll_interval
        self.changes_per_poll = changes_per_poll
        self.polls = 0
        self.inbox_passes = 0
        self.retries = 0
        self._inbox_failures = inbox_failures
        self.retry_at: float | None = None
        self.record_passes: list[str] = []

    async def process_inbox(self) -> None:
        if self._inbox_failures:
            self._inbox_failures -= 1
            raise ConnectionError("Zoho unreachable")
        self.inbox_passes += 1

    async def poll(self, reason: str) -> int:
        self.polls += 1
        return self.changes_per_poll

    async def retry_due(self) -> float | None:
        self.retries += 1
        due, self.retry_at = self.retry_at, None
        return due

    async def sync_records(self, record_ids: tuple[str, ...]) -> int:
        self.record_passes.extend(record_ids)
        return len(record_ids)


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


async def test_a_retry_pass_follows_a_poll_only_when_it_found_changes_or_writes_wait() -> None:
    idle = FakeEngine(poll_interval=0.1)
    await run_for(idle, 0.45)
    assert idle.polls >= 3
    assert idle.retries == 1  # at start; then nothing was pending and nothing changed
    busy = FakeEngine(poll_interval=0.1, changes_per_poll=1)
    await run_for(busy, 0.45)
    assert busy.retries >= busy.polls


async def test_wake_ups_sent_before_a_poll_began_are_covered_by_it() -> None:
    """A burst of change notifications costs one poll, plus at most one more for those
    that came in while it ran; each poll reads everything changed since the last."""

    class SlowPoll(FakeEngine):
        async def poll(self, reason: str) -> int:
            await anyio.sleep(0.1)
            return await super().poll(reason)

    engine = SlowPoll(poll_interval=60)

    async def burst(mailbox: Mailbox) -> None:
        await anyio.sleep(0.05)  # after the start-up poll
        for _ in range(12):
            mailbox.offer(PollNow("zoho notification", sent_at=time.time()))
            await anyio.sleep(0.01)
        await anyio.sleep(0.5)

    await run_for(engine, 0, burst)
    assert 2 <= engine.polls <= 3  # not 12


async def test_records_a_notice_names_get_their_pass_even_when_its_poll_is_covered() -> None:
    engine = FakeEngine(poll_interval=60)

    async def notices(mailbox: Mailbox) -> None:
        mailbox.offer(PollNow("manual"))
        await anyio.sleep(0.05)
        mailbox.offer(PollNow("zoho notification", sent_at=time.time() - 10,
                              records=("5725767000000412001",)))
        await anyio.sleep(0.1)

    await run_for(engine, 0, notices)
    assert engine.polls == 1  # the notice's poll was covered by the manual one
    assert engine.record_passes == ["5725767000000412001"]


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
