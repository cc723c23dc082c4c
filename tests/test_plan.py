"""The plan engine: steps run in order, and each applied step's write reports what it made."""

from __future__ import annotations

from ghbootstrap.plan import Action, Change, Plan, Step, keep


def test_execute_returns_what_each_write_made_in_order() -> None:
    calls: list[str] = []

    def make(name: str) -> str:
        calls.append(name)
        return f"made {name}"

    plan = Plan()
    first = plan.add(Step(Change("thing", "a", Action.CREATE), lambda: make("a")))
    kept = plan.add(keep("thing", "b"))
    second = plan.add(Step(Change("thing", "c", Action.UPDATE), lambda: make("c")))

    done = plan.execute(dry_run=False)

    assert calls == ["a", "c"]
    assert [c.name for c in done.changes] == ["a", "b", "c"]
    assert done.results == {first: "made a", second: "made c"}
    assert kept not in done.results


def test_a_dry_run_writes_nothing_and_reports_no_results() -> None:
    calls: list[str] = []
    plan = Plan()
    plan.add(Step(Change("thing", "a", Action.CREATE), lambda: calls.append("a")))

    done = plan.execute(dry_run=True)

    assert calls == []
    assert done.results == {}
    assert [c.action for c in done.changes] == [Action.CREATE]


def test_two_equal_steps_are_two_results() -> None:
    change = Change("thing", "a", Action.CREATE)
    plan = Plan()
    one = plan.add(Step(change, lambda: 1))
    two = plan.add(Step(change, lambda: 2))
    assert plan.execute(dry_run=False).results == {one: 1, two: 2}
