"""What a command reports: the changes it made or would make, what `status` found, what
`audit` found, and one outcome per entry of a fleet file. Data only: `render.py` prints it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ghbootstrap.plan import Action, Change


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
    force_needed: bool = False  # status: a variable someone changed; the repair takes --force

    @property
    def changed(self) -> bool:
        return any(c.action is not Action.KEEP for c in self.changes)

    @property
    def problems(self) -> list[str]:
        """One line per drifted or missing resource, ending with its repair command (none
        where no command repairs it without undoing someone's change)."""
        return [
            f"{c.resource} {c.name}: {c.detail}" + (f": run `{c.fix}`" if c.fix else "")
            for c in self.checks
            if c.state is not State.OK
        ]

    @property
    def repairable(self) -> bool:
        """Every problem has a repair. One without (a trust changed by hand: the setup
        command would undo that change, or refuse) leaves the setup to its owner."""
        return all(c.fix for c in self.checks if c.state is not State.OK)

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
