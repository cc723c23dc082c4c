"""One gate for every GitHub request of the process, so one rate-limit answer backs off
every worker of `apply` at once instead of each finding the limit for itself.

A rate-limit answer (403 or 429 with `retry-after`, or `x-ratelimit-remaining: 0` with a
reset time) closes the gate until the moment GitHub named; every request, first attempts
and retries alike, passes the gate before it goes out. Nothing waits on a fixed clock:
a closed gate is waited on until it opens, and it opens when GitHub said it would.

The gate also bounds how many requests are in flight: at most MAX_IN_FLIGHT (GitHub's
documented ceiling of 100 concurrent requests). A limit event (the first answer while the
gate is open; answers to requests already on their way belong to it) lowers the ceiling to
one below the most that were in flight since the previous event, and the window to it.
GitHub's limits do not move with our traffic, so probing past them again, as TCP does,
would cost every worker the whole wait each time. The ceiling rises by one for every CALM
seconds without an answer, and the window grows back towards it by one for every window's
worth of answered requests, so workers released together after a wait do not all hit the
limit again at once. Measured with `make bench`: see README.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MAX_IN_FLIGHT = 100
CALM = 30.0  # seconds without a limit answer before the ceiling rises by one


class Gate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._open_at = 0.0
        self._window = self._ceiling = float(MAX_IN_FLIGHT)
        self._calm_since = 0.0
        self._peak = 0  # the most in flight since the last limit event
        self.in_flight = 0
        self.limit_answers = 0  # rate-limit answers any worker received
        self.waiting = 0  # requests held back by a rate limit right now
        self.listeners: list[Callable[[], None]] = []

    def reset(self) -> None:
        with self._lock:
            self._open_at, self._calm_since, self._peak = 0.0, 0.0, 0
            self._window = self._ceiling = float(MAX_IN_FLIGHT)
            self.in_flight, self.limit_answers, self.waiting = 0, 0, 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One request (with its retries) in flight, when the window has room for it."""
        with self._room:
            while self.in_flight >= int(self._window):
                self._room.wait()
            self.in_flight += 1
            self._peak = max(self._peak, self.in_flight)
        try:
            yield
        finally:
            with self._room:
                self.in_flight -= 1
                now = time.monotonic()
                if self._ceiling < MAX_IN_FLIGHT and now - self._calm_since >= CALM:
                    self._ceiling, self._calm_since = self._ceiling + 1, now
                self._window = min(self._ceiling, self._window + 1 / self._window)
                self._room.notify()

    def hold(self, seconds: float) -> float:
        """GitHub asked to wait `seconds`: nobody sends anything before then.
        Returns when the asker's own wait ends."""
        now = time.monotonic()
        until = now + max(0.0, seconds)
        with self._lock:
            self.limit_answers += 1
            if now >= self._open_at:  # a new event: the gate was open when this was sent
                self._ceiling = max(1.0, min(self._ceiling, float(self._peak)) - 1)
                self._window = min(self._window, self._ceiling)
                self._peak, self._calm_since = self.in_flight, now
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
