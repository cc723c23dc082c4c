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


class State(enum.StrEnum):
    OK = "ok"
    DRIFT = "drift"
    MISSING = "missing"


@dataclass(frozen=True)
class Check:
    """What `status` found for one resource, and the command that repairs it."""

    resource: str
    name: str
    state: State
    detail: str = ""
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "name": self.name,
            "state": self.state.value,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass
class Report:
    """What a command did (or would do): the result the CLI renders as text or JSON."""

    command: str
    repository: str
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.action is not Action.KEEP for c in self.changes)

    @property
    def problems(self) -> list[str]:
        """One line per drifted or missing resource, ending with its repair command."""
        return [
            f"{c.resource} {c.name}: {c.detail}: run `{c.fix}`"
            for c in self.checks
            if c.state is not State.OK
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "repository": self.repository,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "resources": [c.to_json() for c in self.changes],
            "outputs": self.outputs,
            "notes": self.notes,
            "checks": [c.to_json() for c in self.checks],
            "problems": self.problems,
        }


@dataclass(frozen=True)
class Finding:
    kind: str  # "role" or "user"
    name: str
    severity: str
    problem: str
    fix: str

    def to_json(self) -> dict[str, str]:
        return {
            self.kind: self.name,
            "severity": self.severity,
            "problem": self.problem,
            "fix": self.fix,
        }


@dataclass
class AuditReport:
    roles_scanned: int = 0
    github_roles: int = 0
    users_scanned: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{f.kind} {f.name}: {f.problem}" for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings]}


@dataclass
class Outcome:
    """One repository of a file: its report, or the one-line error that stopped it, and
    the command that repairs it."""

    index: int
    name: str
    report: Report | None = None
    error: str | None = None
    repair: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not (self.report and self.report.problems)

    @property
    def state(self) -> str:
        if self.error is not None:
            return "failed"
        if self.report is not None and self.report.checks:
            return "drift" if self.report.problems else "ok"
        return "changed" if self.report is not None and self.report.changed else "unchanged"

    def to_json(self) -> dict[str, Any]:
        report = self.report
        return {
            "name": self.name,
            "ok": self.ok,
            "state": self.state,
            "changes": [c.to_json() for c in report.changes] if report else [],
            "error": self.error,
            "repair": self.repair,
            "outputs": report.outputs if report else {},
            "checks": [c.to_json() for c in report.checks] if report else [],
        }


@dataclass
class FleetReport:
    """`apply FILE`, `status --file`, `destroy --file`: every repository exactly once, in
    the file's order, and the account-wide changes made once for all of them."""

    command: str
    source: str
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    shared: list[Change] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def problems(self) -> list[str]:
        return [f"{o.name}: {p}" for o in self.outcomes if o.report for p in o.report.problems]

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "dry_run": self.dry_run,
            "shared": [c.to_json() for c in self.shared],
            "repositories": [o.to_json() for o in self.outcomes],
        }
