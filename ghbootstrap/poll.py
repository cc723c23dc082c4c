"""Wait for something to become true: bounded exponential backoff, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from ghbootstrap.errors import GhbError

T = TypeVar("T")


def until(
    attempt: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    fix: str = "",
    first_delay: float = 0.5,
    max_delay: float = 8.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Call `attempt` until it returns something other than None, or `timeout` passes."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + timeout
    delay = first_delay
    while True:
        result = attempt()
        if result is not None:
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise GhbError(f"{what} did not happen within {timeout:g} s", fix)
        sleep(min(delay, remaining))
        delay = min(delay * 2, max_delay)
