"""Fixtures shared by every test folder."""

from collections.abc import Awaitable, Callable

import anyio
import pytest


async def _eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await anyio.sleep(0.01)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    """``await eventually(lambda: condition)``: poll until true, fail after a timeout."""
    return _eventually
