"""The process-wide GitHub gate: how many requests it lets out after a limit answer.

A fresh Gate and a clock the test moves: no sleeps, no threads. `room` counts the slots
that open at once, the way a fleet of workers would take them.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from ghbootstrap.github import pacing
from ghbootstrap.github.pacing import CALM, Gate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(pacing.time, "monotonic", clock)
    return clock


def room(gate: Gate) -> int:
    """How many requests may be in flight at once right now."""
    taken = 0
    with ExitStack() as held:
        while gate.in_flight < 200 and _has_room(gate):
            held.enter_context(gate.slot())
            taken += 1
    return taken


def _has_room(gate: Gate) -> bool:
    with gate._room:
        return gate.in_flight < int(gate._window)


def answered(gate: Gate, requests: int) -> None:
    for _ in range(requests):
        with gate.slot():
            pass


def limited_at(gate: Gate, in_flight: int, answers: int = 1) -> None:
    """`in_flight` requests out at once, `answers` of them refused by a limit."""
    with ExitStack() as held:
        for _ in range(in_flight):
            held.enter_context(gate.slot())
        for _ in range(answers):
            gate.hold(1.0)


def test_a_limit_at_seven_in_flight_lets_six_out_from_then_on(clock: Clock) -> None:
    assert room(Gate()) == pacing.MAX_IN_FLIGHT
    gate = Gate()
    limited_at(gate, 7)
    assert room(gate) == 6
    clock.now += 1.0  # the gate opens; many requests answered, none past six
    answered(gate, 500)
    assert room(gate) == 6


def test_the_answers_of_one_event_lower_the_ceiling_once(clock: Clock) -> None:
    gate = Gate()
    limited_at(gate, 8, answers=3)  # three requests over the limit, answered together
    assert gate.limit_answers == 3
    clock.now += 1.0
    answered(gate, 100)
    assert room(gate) == 7


def test_the_ceiling_comes_back_one_step_per_calm_period(clock: Clock) -> None:
    gate = Gate()
    limited_at(gate, 7)
    clock.now += 1.0
    limited_at(gate, 6)  # a second event, one below: the write rate this time
    clock.now += CALM - 1.0
    answered(gate, 100)
    assert room(gate) == 5
    clock.now += 1.0
    answered(gate, 100)
    assert room(gate) == 6
    clock.now += CALM
    answered(gate, 100)
    assert room(gate) == 7


def test_never_below_one(clock: Clock) -> None:
    gate = Gate()
    for _ in range(5):
        limited_at(gate, 1)
        clock.now += 1.0
    answered(gate, 10)
    assert room(gate) == 1
