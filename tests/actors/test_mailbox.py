"""The mailbox: queued messages come first, and a waiting wake-up covers its kind."""

from actors.mailbox import Mailbox
from actors.messages import Drain, InboxArrived, PollNow


async def test_a_queued_message_is_taken_even_when_work_is_already_due() -> None:
    mailbox = Mailbox(10)
    mailbox.offer(PollNow("manual"))
    assert await mailbox.next(idle_after=0.0) == PollNow("manual")
    assert await mailbox.next(idle_after=0.0) == PollNow("timer")


async def test_a_waiting_wake_up_covers_later_ones_of_its_kind() -> None:
    mailbox = Mailbox(2)
    assert all(mailbox.offer(InboxArrived(n)) for n in range(100))  # one inbox pass
    assert mailbox.offer(PollNow("notification")) and mailbox.offer(PollNow("notification"))
    assert mailbox.depth() == 2
    assert await mailbox.next() == InboxArrived(0)
    assert mailbox.offer(InboxArrived(100))  # after the pass began: another pass
    assert await mailbox.next() == PollNow("notification")
    assert await mailbox.next() == InboxArrived(100)
    mailbox.request_stop()
    assert await mailbox.next() == Drain()
