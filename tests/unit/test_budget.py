import anyio
import anyio.lowlevel

from actors.budget import RateBudget


async def grant_order(budget: RateBudget, plan: list[tuple[str, int]]) -> list[str]:
    order: list[str] = []

    async def worker(actor: str) -> None:
        await budget.acquire(actor)
        order.append(actor)

    async with anyio.create_task_group() as group:
        for actor, count in plan:
            for _ in range(count):
                group.start_soon(worker, actor)
            await anyio.lowlevel.checkpoint()  # queue A's burst before B arrives
    return order


async def test_busy_actor_cannot_starve_others() -> None:
    budget = RateBudget("acct", rate=400, burst=1)
    order = await grant_order(budget, [("A", 20), ("B", 3)])
    assert sorted(order) == ["A"] * 20 + ["B"] * 3
    # Round-robin: all of B's requests are served among the first few grants.
    assert max(i for i, actor in enumerate(order) if actor == "B") < 8


async def test_per_actor_cap_lets_others_through() -> None:
    budget = RateBudget("acct", rate=1000, burst=50, per_actor_rate=2)
    order = await grant_order(budget, [("A", 4), ("B", 1)])
    # A's cap (burst 2) holds its 3rd and 4th request; B goes before them.
    assert order.index("B") < 3
    assert order.count("A") == 4


async def test_pause_holds_everyone_until_retry_after() -> None:
    now = [0.0]
    budget = RateBudget("acct", rate=1000, burst=10, clock=lambda: now[0])
    budget.pause(30.0)
    granted = anyio.Event()

    async def wait() -> None:
        await budget.acquire("A")
        granted.set()

    async with anyio.create_task_group() as group:
        group.start_soon(wait)
        await anyio.sleep(0.05)
        assert not granted.is_set()
        assert budget.statistics().paused_for == 30.0
        now[0] = 31.0
        budget.pause(0)  # any change wakes waiters; the pause has now expired
        with anyio.fail_after(2):
            await granted.wait()


async def test_cancelled_waiter_leaves_the_queue() -> None:
    budget = RateBudget("acct", rate=0.001, burst=1)
    await budget.acquire("A")  # empties the bucket
    with anyio.move_on_after(0.05):
        await budget.acquire("A")
    assert budget.statistics().waiting == 0


async def test_concurrency_slots() -> None:
    budget = RateBudget("acct", rate=1000, burst=100, max_concurrent=2)
    peak = 0
    active = 0

    async def call() -> None:
        nonlocal peak, active
        async with budget.slot("A"):
            active += 1
            peak = max(peak, active)
            await anyio.sleep(0.01)
            active -= 1

    async with anyio.create_task_group() as group:
        for _ in range(6):
            group.start_soon(call)
    assert peak == 2


async def test_statistics_count_requests_in_flight_with_a_concurrency_cap() -> None:
    budget = RateBudget("crm", rate=100, burst=100, max_concurrent=3)
    async with budget.slot(), budget.slot():
        assert budget.statistics().in_flight == 2
    assert budget.statistics().in_flight == 0
