"""What a command reports: the changes it made or would make, what `status` found, what
`audit` found, and one outcome per entry of a fleet file. Data only: `render.py` prints it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ghbootstrap.inventory import (
    KEYS,
    KEYS_OTHER,
    VERDICTS,
    AccessKeyFacts,
    FoundSecret,
    Migration,
)
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


@dataclass(frozen=True)
class ScanRow:
    """One repository `scan` read: its verdict, the AWS key secrets and the workflow files
    reading them, the IAM keys its ghbootstrap record matches, and why."""

    name: str
    verdict: str
    secrets: tuple[FoundSecret, ...] = ()
    workflows: tuple[str, ...] = ()
    keys: tuple[AccessKeyFacts, ...] = ()
    reason: str = ""
    failed: bool = False  # not read for another reason than a permission
    migration: Migration | None = None
    other_secrets: tuple[FoundSecret, ...] = ()  # beside ghbootstrap's: not written by it
    also: tuple[str, ...] = ()  # the IAM users of its other ghbootstrap key setups

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.verdict,
            "secrets": [s.to_json() for s in self.secrets],
            "workflows": list(self.workflows),
            "keys": [k.to_json() for k in self.keys],
            "reason": self.reason,
        }


@dataclass
class ScanReport:
    """`scan OWNER`: a row per repository, and the IAM keys no row holds."""

    owner: str
    account: str
    rows: list[ScanRow] = field(default_factory=list)
    unmatched: list[AccessKeyFacts] = field(default_factory=list)
    written: str = ""  # the file --write wrote
    notes: list[str] = field(default_factory=list)

    def count(self, *verdicts: str) -> int:
        return sum(r.verdict in verdicts for r in self.rows)

    @property
    def failed(self) -> list[ScanRow]:
        return [r for r in self.rows if r.failed]

    @property
    def problems(self) -> list[str]:
        """Repositories holding long-lived AWS keys: the findings that make the exit 3."""
        return [f"{r.name}: {r.reason}" for r in self.rows if r.verdict in (KEYS, KEYS_OTHER)]

    def summary(self) -> dict[str, Any]:
        return {
            "repositories": len(self.rows),
            "long_lived": self.count(KEYS, KEYS_OTHER),
            **{verdict.replace("-", "_"): self.count(verdict) for verdict in VERDICTS},
            "failed": len(self.failed),
            "account": self.account,
            "unmatched_keys": [
                {**k.to_json(), **({"repository": k.repository} if k.repository else {})}
                for k in self.unmatched
            ],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "repositories": [r.to_json() for r in self.rows],
            "summary": self.summary(),
        }
