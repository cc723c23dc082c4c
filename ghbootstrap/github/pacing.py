"""One gate for every GitHub request of the process, so one rate-limit answer backs off
every worker of `apply` at once instead of each finding the limit for itself.

A rate-limit answer (403 or 429 with `retry-after`, or `x-ratelimit-remaining: 0` with a
reset time) closes the gate until the moment GitHub named; every request, first attempts
and retries alike, passes the gate before it goes out. Nothing waits on a fixed clock:
a closed gate is waited on until it opens, and it opens when GitHub said it would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Gate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_at = 0.0
        self.limit_answers = 0  # rate-limit answers any worker received
        self.waiting = 0  # requests held back by a rate limit right now
        self.listeners: list[Callable[[], None]] = []

    def reset(self) -> None:
        with self._lock:
            self._open_at, self.limit_answers, self.waiting = 0.0, 0, 0

    def hold(self, seconds: float) -> float:
        """GitHub asked to wait `seconds`: nobody sends anything before then.
        Returns when the asker's own wait ends."""
        until = time.monotonic() + max(0.0, seconds)
        with self._lock:
            self.limit_answers += 1
            self._open_at = max(self._open_at, until)
        return until

    def closed_for(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        with self._lock:
            return max(0.0, self._open_at - time.monotonic())

    def back_off(self, seconds: float) -> None:
        """The caller got a rate-limit answer: close the gate, wait as asked, and longer if
        another answer has moved the opening on meanwhile."""
        mine = self.hold(seconds)
        self._count(+1)
        try:
            time.sleep(seconds)
        finally:
            self._count(-1)
        self.wait(waited_until=mine)

    def wait(self, budget: float | None = None, waited_until: float = 0.0) -> bool:
        """Wait until the gate opens; False, at once, if that is more than `budget` away."""
        with self._lock:
            target = self._open_at
        remaining = target - time.monotonic()
        if target <= waited_until or remaining <= 0:
            return True
        if budget is not None and remaining > budget:
            return False
        self._count(+1)
        try:
            while True:
                if remaining > 0:
                    time.sleep(remaining)
                with self._lock:
                    if self._open_at <= target:
                        return True
                    target = self._open_at
                remaining = target - time.monotonic()
        finally:
            self._count(-1)

    def _count(self, change: int) -> None:
        with self._lock:
            self.waiting += change
        for listener in list(self.listeners):
            listener()


GATE = Gate()
