import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest

from actors.backoff import Backoff
from actors.mailbox import Mailbox
from actors.messages import Drain, InboxArrived
from actors.supervisor import RestartPolicy, Supervisor

FAST = Backoff(base=0.001, cap=0.01, jitter=0)


class Echo:
    """Records what it receives; crashes on event id < 0."""

    def __init__(self, seen: list[int]) -> None:
        self.seen = seen

    async def run(self, mailbox: Mailbox) -> None:
        while True:
            message = await mailbox.next()
            if isinstance(message, Drain):
                return
            if isinstance(message, InboxArrived):
                if message.event_id < 0:
                    raise RuntimeError("boom")
                self.seen.append(message.event_id)


class Crasher:
    def __init__(self, counter: list[int]) -> None:
        self.counter = counter

    async def run(self, mailbox: Mailbox) -> None:
        self.counter.append(1)
        raise ValueError("bad state")


@asynccontextmanager
async def running(sup: Supervisor) -> AsyncIterator[Supervisor]:
    async with anyio.create_task_group() as group:
        await group.start(sup.run)
        try:
            yield sup
        finally:
            await sup.shutdown(grace=1)


@pytest.fixture
def supervisor() -> Supervisor:
    return Supervisor(RestartPolicy(max_restarts=3, within=60, backoff=FAST), mailbox_size=10)


async def eventually(check: Callable[[], bool]) -> None:
    with anyio.fail_after(3):
        while not check():
            await anyio.sleep(0.005)


async def test_crash_restarts_with_fresh_instance(supervisor: Supervisor) -> None:
    async with running(supervisor):
        seen: list[int] = []
        builds: list[Echo] = []

        def factory() -> Echo:
            builds.append(Echo(seen))
            return builds[-1]

        supervisor.start("a", factory)
        # One at a time: a wake-up still queued covers the next ones of its kind.
        supervisor.offer("a", InboxArrived(1))
        await eventually(lambda: seen == [1])
        supervisor.offer("a", InboxArrived(-1))
        await eventually(lambda: (i := supervisor.info("a")) is not None and i.restarts == 1)
        supervisor.offer("a", InboxArrived(2))
        await eventually(lambda: seen == [1, 2])
        info = supervisor.info("a")
        assert info is not None and info.restarts == 1 and "boom" in info.last_error
        assert len(builds) == 2 and builds[0] is not builds[1]


async def test_restart_intensity_marks_failed(supervisor: Supervisor) -> None:
    async with running(supervisor):
        runs: list[int] = []
        supervisor.start("bad", lambda: Crasher(runs))
        await eventually(lambda: (i := supervisor.info("bad")) is not None and i.state == "failed")
        info = supervisor.info("bad")
        assert info is not None
        assert len(runs) == 4  # first run + max_restarts=3 restarts, then it gives up
        assert "ValueError: bad state" in info.last_error
        assert not supervisor.offer("bad", InboxArrived(1))


async def test_one_crash_never_touches_siblings(supervisor: Supervisor) -> None:
    async with running(supervisor):
        seen: list[int] = []
        supervisor.start("good", lambda: Echo(seen))
        supervisor.start("bad", lambda: Crasher([]))
        await eventually(lambda: (i := supervisor.info("bad")) is not None and i.state == "failed")
        supervisor.offer("good", InboxArrived(7))
        await eventually(lambda: seen == [7])
        good = supervisor.info("good")
        assert good is not None and good.state == "running" and good.restarts == 0


async def test_backoff_grows_between_restarts() -> None:
    stamps: list[float] = []

    class Timed:
        async def run(self, mailbox: Mailbox) -> None:
            stamps.append(anyio.current_time())
            raise RuntimeError("again")

    policy = RestartPolicy(max_restarts=3, within=60, backoff=Backoff(base=0.02, cap=1, jitter=0))
    async with running(Supervisor(policy)) as sup:
        sup.start("t", Timed)
        await eventually(lambda: (i := sup.info("t")) is not None and i.state == "failed")
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(gaps) == 3
    assert gaps[0] >= 0.02 and gaps[1] >= 0.04 and gaps[2] >= 0.08


async def test_reconcile_restarts_only_changed(supervisor: Supervisor) -> None:
    async with running(supervisor):
        seen: list[int] = []
        supervisor.start("keep", lambda: Echo(seen), fingerprint="v1")
        supervisor.start("change", lambda: Echo(seen), fingerprint="v1")
        supervisor.start("drop", lambda: Echo(seen), fingerprint="v1")
        kept_since = supervisor.info("keep").started_at  # type: ignore[union-attr]
        started = await supervisor.reconcile(
            {"keep": ("v1", lambda: Echo(seen)), "change": ("v2", lambda: Echo(seen)),
             "new": ("v1", lambda: Echo(seen))},
            grace=1,
        )
        assert sorted(started) == ["change", "new"]
        assert {i.id for i in supervisor.snapshot()} == {"keep", "change", "new"}
        assert supervisor.info("keep").started_at == kept_since  # type: ignore[union-attr]


async def test_shutdown_drains_then_cancels_stuck_actor() -> None:
    class Stuck:
        async def run(self, mailbox: Mailbox) -> None:
            await anyio.sleep_forever()

    sup = Supervisor()
    seen: list[int] = []
    async with anyio.create_task_group() as group:
        await group.start(sup.run)
        sup.start("stuck", Stuck)
        sup.start("polite", lambda: Echo(seen))
        with anyio.fail_after(3):
            await sup.shutdown(grace=0.1)
    assert {i.state for i in sup.snapshot()} == {"stopped"}


async def test_reconcile_retries_a_failed_actor_with_unchanged_fingerprint(
        supervisor: Supervisor) -> None:
    healthy = anyio.Event()  # the environment is fixed once this is set

    class Flaky:
        async def run(self, mailbox: Mailbox) -> None:
            if not healthy.is_set():
                raise RuntimeError("store unavailable")
            await Echo([]).run(mailbox)

    async with running(supervisor):
        wanted = {"x": ("fp-1", Flaky), "y": ("fp-1", lambda: Echo([]))}
        await supervisor.reconcile(wanted, grace=1)
        await eventually(lambda: (i := supervisor.info("x")) is not None and i.state == "failed")
        y_started = supervisor.info("y").started_at  # type: ignore[union-attr]
        healthy.set()
        assert await supervisor.reconcile(wanted, grace=1) == ["x"]
        await eventually(lambda: (i := supervisor.info("x")) is not None and i.state == "running")
        info = supervisor.info("x")
        assert info is not None and info.restarts == 0 and info.last_error == ""
        assert supervisor.info("y").started_at == y_started  # type: ignore[union-attr]
