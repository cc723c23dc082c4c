"""Read -> compare -> change, the same way for every resource.

A flow reads what exists, and `reconcile` compares it with what is wanted, giving a
`Step`: the `Change` to report and, unless nothing differs, the write that makes it so.
All steps are planned before any is applied, so `--dry-run` is "plan, do not apply", a
re-run with nothing to do makes no write call, and a refusal (a file that differs, a role
someone else owns) stops the run before anything has been written.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ghbootstrap.documents import same_document

T = TypeVar("T")


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    KEEP = "no change"


@dataclass(frozen=True)
class Change:
    """One resource's outcome. `document` is what was (or would be) written."""

    resource: str
    name: str
    action: Action
    detail: str = ""
    document: Mapping[str, Any] | str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resource": self.resource,
            "name": self.name,
            "action": self.action.value,
        }
        if self.detail:
            out["detail"] = self.detail
        if self.document is not None:
            out["document"] = self.document
        return out


@dataclass(frozen=True, eq=False)  # compared by identity: a step is a key of `Executed.results`
class Step:
    change: Change
    apply: Callable[[], object] | None = None


def keep(resource: str, name: str, detail: str = "") -> Step:
    return Step(Change(resource, name, Action.KEEP, detail))


def reconcile(
    resource: str,
    name: str,
    current: T | None,
    desired: T,
    *,
    create: Callable[[], object],
    update: Callable[[], object] | None = None,
    same: Callable[[T, T], bool] | None = None,
    document: Mapping[str, Any] | str | None = None,
    update_detail: str = "differs",
) -> Step:
    """Compare what exists with what is wanted; say what to do and how."""
    if current is None:
        return Step(Change(resource, name, Action.CREATE, document=document), create)
    if (same or _equal)(current, desired):
        return keep(resource, name)
    if update is None:
        return keep(resource, name, f"{update_detail}; left as it is")
    return Step(Change(resource, name, Action.UPDATE, update_detail, document), update)


def _equal(a: object, b: object) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return same_document(a, b)
    return a == b


@dataclass(frozen=True)
class Executed:
    """What a plan did: every step's change, and what each applied step's write returned."""

    changes: list[Change]
    results: Mapping[Step, object]


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    def execute(self, *, dry_run: bool) -> Executed:
        """Apply each step's write in order (none when dry-running): the changes, and what
        each write returned (a step that made something returns it)."""
        results: dict[Step, object] = {}
        if not dry_run:
            for step in self.steps:
                if step.apply is not None:
                    results[step] = step.apply()
        return Executed([step.change for step in self.steps], results)
