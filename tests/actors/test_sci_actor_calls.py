"""``Call``: a manual operation runs on the actor's engine between passes, and its answer
or its error comes back to the asker; the actor carries on either way."""

import anyio
import pytest

from actors.mailbox import Mailbox
from actors.messages import Call, Reply
from actors.sci import SciActor
from tests.actors.test_sci_actor import FakeEngine


class Busy(FakeEngine):
    """An engine whose inbox pass is in progress until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__(poll_interval=60)
        self.release = anyio.Event()
        self.passing = False
        self.seen_during_pass: list[bool] = []

    async def process_inbox(self) -> None:
        self.passing = True
        await self.release.wait()
        self.passing = False


async def ask(mailbox: Mailbox, work) -> object:
    reply = Reply()
    assert mailbox.offer(Call(work, reply))
    with anyio.fail_after(5):
        return await reply.wait()


async def test_a_call_waits_for_the_current_pass_then_answers() -> None:
    engine = Busy()
    mailbox = Mailbox(10)

    async def work(running: Busy) -> str:
        running.seen_during_pass.append(running.passing)
        return "linked"

    async with anyio.create_task_group() as group:
        group.start_soon(SciActor(engine).run, mailbox)
        answer: list[object] = []

        async def asker() -> None:
            answer.append(await ask(mailbox, work))

        group.start_soon(asker)
        await anyio.sleep(0.05)
        assert answer == []  # the pass is still running: the call waits its turn
        engine.release.set()
        with anyio.fail_after(5):
            while not answer:
                await anyio.sleep(0.01)
        mailbox.request_stop()
    assert answer == ["linked"] and engine.seen_during_pass == [False]


async def test_the_work_error_reaches_the_asker_and_the_actor_keeps_going() -> None:
    engine = FakeEngine(poll_interval=60)
    mailbox = Mailbox(10)

    async def fails(_: FakeEngine) -> None:
        raise LookupError("no link abc")

    async def polls(running: FakeEngine) -> int:
        return await running.poll("manual")

    async with anyio.create_task_group() as group:
        group.start_soon(SciActor(engine).run, mailbox)
        with pytest.raises(LookupError, match="no link abc"):
            await ask(mailbox, fails)
        assert await ask(mailbox, polls) == 0
        mailbox.request_stop()
    assert engine.polls == 1
