"""Turn a Report into what people read (text) or programs read (one JSON object)."""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Callable
from typing import Any

from ghbootstrap.documents import pretty_json as render_document
from ghbootstrap.errors import one_line
from ghbootstrap.explain import Explanation
from ghbootstrap.inventory import KEYS, KEYS_OTHER, LABELS, OIDC, UNREADABLE
from ghbootstrap.plan import Action
from ghbootstrap.report import AuditReport, FleetReport, Outcome, Report, ScanReport

Rendered = Report | AuditReport | Explanation | FleetReport | ScanReport


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


_LABELS = {
    "account": "AWS account",
    "region": "Region",
    "ecr_repository": "ECR repository",
    "ecr_uri": "ECR URI",
    "policy_arn": "Policy ARN",
    "provider_arn": "OIDC provider",
    "role_arn": "Role ARN",
    "user_arn": "User ARN",
    "access_key_id": "Access key",
    "previous_key": "Previous key",
    "subjects": "May assume",
    "pull_request": "Pull request",
}


def as_text(report: Rendered) -> str:
    if isinstance(report, AuditReport):
        return _audit_text(report)
    if isinstance(report, Explanation):
        return report.text()
    if isinstance(report, FleetReport):
        return _fleet_text(report)
    if isinstance(report, ScanReport):
        return _scan_text(report)
    lines = [f"ghbootstrap {report.command} {report.repository}"]
    if report.dry_run:
        lines.append("Plan (dry run: nothing was written)")
    width = max((len(c.resource) for c in report.changes), default=0)
    for change in report.changes:
        detail = f"  ({change.detail})" if change.detail else ""
        lines.append(
            f"  {change.action.value:<9}  {change.resource:<{width}}  {change.name}{detail}"
        )
    check_width = max((len(c.resource) for c in report.checks), default=0)
    for check in report.checks:
        detail = f"  ({check.detail})" if check.detail else ""
        lines.append(
            f"  {check.state.value:<8} {check.resource:<{check_width}}  {check.name}{detail}"
        )
    if report.dry_run:
        for change in report.changes:
            if change.document is not None and change.action in (Action.CREATE, Action.UPDATE):
                lines.append(f"\n{change.action.value} {change.resource} {change.name}:")
                lines.append(_document_text(change.document))
    if report.outputs:
        lines.append("")
    for key, value in report.outputs.items():
        label = _LABELS.get(key, key)
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            lines.append(f"{label if index == 0 else '':<15} {item}")
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"problem: {problem}" for problem in report.problems]
    lines.append(_summary(report))
    return "\n".join(lines)


def _audit_text(report: AuditReport) -> str:
    lines = [
        f"ghbootstrap audit: {_count(report.roles_scanned, 'role')} "
        f"({report.github_roles} trust GitHub's OIDC), {_count(report.users_scanned, 'user')}"
    ]
    for finding in report.findings:
        lines.append(f"  {finding.severity:<8}  {finding.kind} {finding.name}: {finding.problem}")
        lines.append(f"  {'':<8}  fix: {finding.fix}")
    count = len(report.findings)
    lines.append(f"{_count(count, 'finding')}." if count else "No findings.")
    return "\n".join(lines)


def _scan_text(scan: ScanReport) -> str:
    """A row per repository (verdict and why; for ghbootstrap's key setups the secrets,
    files and keys too), the keys no repository holds, and the summary line."""
    lines = [
        f"ghbootstrap scan {scan.owner}: {_count(len(scan.rows), 'repository')}, "
        f"AWS account {scan.account}"
    ]
    width = max((len(r.name) for r in scan.rows), default=10)
    label_width = max(len(label) for label in LABELS.values())
    indent = " " * (2 + width + 2 + label_width + 2)
    if scan.rows:
        lines.append(f"  {'REPOSITORY':<{width}}  {'VERDICT':<{label_width}}  WHY")
    for row in scan.rows:
        label = LABELS[row.verdict] + (" (failed)" if row.failed else "")
        lines.append(f"  {row.name:<{width}}  {label:<{label_width}}  {row.reason}".rstrip())
        if row.verdict == KEYS:
            if row.secrets:
                lines.append(f"{indent}secrets: {', '.join(s.label for s in row.secrets)}")
            if row.workflows:
                lines.append(f"{indent}workflows: {', '.join(row.workflows)}")
        lines += [f"{indent}key: {key.text()}" for key in row.keys]
    if scan.unmatched:
        lines.append(
            "IAM access keys no scanned repository holds (by age and last use; never "
            "guessed onto a repository):"
        )
        for key in scan.unmatched:
            mine = f": ghbootstrap's record names {key.repository}" if key.repository else ""
            lines.append(f"  {key.text()}{mine}")
    lines += [f"note: {note}" for note in scan.notes]
    held, ours = scan.count(KEYS, KEYS_OTHER), scan.count(KEYS)
    role, unread = scan.count(OIDC), scan.count(UNREADABLE)
    summary = (
        f"{_count(len(scan.rows), 'repository')}: {held} {_verb(held, 'hold')} long-lived "
        f"AWS keys ({ours} made by ghbootstrap), {role} {_verb(role, 'use')} a role, "
        f"{unread} unreadable"
    )
    if scan.failed:
        summary += f", {len(scan.failed)} failed"
    lines.append(summary)
    return "\n".join(lines)


def _verb(number: int, verb: str) -> str:
    return verb + "s" if number == 1 else verb


def _document_text(document: Any) -> str:
    text = document if isinstance(document, str) else render_document(document)
    return text.rstrip("\n")


def _summary(report: Report) -> str:
    if report.checks:
        bad = len(report.problems)
        return f"{bad} to repair." if bad else "Everything matches."
    counts = {a: sum(c.action is a for c in report.changes) for a in Action}
    if not report.changed:
        return "No changes: everything already matches."
    parts = [
        f"{counts[a]} to {a.value}" if report.dry_run else f"{counts[a]} {_past(a)}"
        for a in (Action.CREATE, Action.UPDATE, Action.DELETE)
        if counts[a]
    ]
    return ("Would make: " if report.dry_run else "Done: ") + ", ".join(parts) + "."


def _count(number: int, noun: str) -> str:
    if number != 1 and noun.endswith("y"):
        return f"{number} {noun[:-1]}ies"
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _past(action: Action) -> str:
    return {Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted"}[action]


def _fleet_text(fleet: FleetReport) -> str:
    """Each repository's report in the file's order, then one line per repository."""
    lines = [
        f"ghbootstrap {fleet.command} {fleet.source}: {_count(len(fleet.outcomes), 'repository')}"
    ]
    if fleet.shared:
        lines.append("Shared by the account (settled once, before any repository)")
        for change in fleet.shared:
            detail = f"  ({change.detail})" if change.detail else ""
            lines.append(f"  {change.action.value:<9}  {change.resource}  {change.name}{detail}")
    for outcome in fleet.outcomes:
        if outcome.report is not None:
            lines += ["", as_text(outcome.report)]
    lines += ["", "Summary"]
    width = max(len(o.name) for o in fleet.outcomes)
    for outcome in fleet.outcomes:
        lines.append(
            f"  {_state(fleet, outcome):<10} {outcome.name:<{width}}  {_gist(outcome)}".rstrip()
        )
        if outcome.repair:
            lines.append(f"  {'':<10} {'':<{width}}  repair: {outcome.repair}")
    counts: dict[str, int] = {}
    for outcome in fleet.outcomes:
        counts[_state(fleet, outcome)] = counts.get(_state(fleet, outcome), 0) + 1
    told = ", ".join(f"{n} {state}" for state, n in counts.items())
    lines.append(f"{_count(len(fleet.outcomes), 'repository')}: {told}.")
    return "\n".join(lines)


def _state(fleet: FleetReport, outcome: Outcome) -> str:
    if fleet.dry_run and outcome.state == "changed":
        return "to change"
    return outcome.state


def _gist(outcome: Outcome) -> str:
    if outcome.error is not None:
        return outcome.error
    report = outcome.report
    if report is None or report.checks:
        return ""
    counts = {a: sum(c.action is a for c in report.changes) for a in Action}
    return ", ".join(
        f"{counts[a]} to {a.value}" if report.dry_run else f"{counts[a]} {_past(a)}"
        for a in (Action.CREATE, Action.UPDATE, Action.DELETE)
        if counts[a]
    )


def as_json(report: Rendered) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=False)


def as_terminal_text(report: Rendered) -> str:
    """`as_text`, each line with its control characters escaped: names and values read
    from AWS, GitHub or a pasted token (a path, a hand-made variable) never drive the
    terminal. The last guard; where a value is put in, `errors.shown` escapes it."""
    return "\n".join(one_line(line) for line in as_text(report).split("\n"))


FORMATTERS: dict[Format, Callable[[Rendered], str]] = {
    Format.TEXT: as_terminal_text,
    Format.JSON: as_json,
}


class Progress:
    """One line on stderr while a file runs: repositories done, failed, and whether GitHub's
    rate limit holds requests back. Drawn only on a terminal; redrawn when something
    changes, never on a timer."""

    def __init__(self, command: str, total: int, stream: Any, waiting: Callable[[], int]) -> None:
        self._command = command
        self._total = total
        self._stream = stream
        self._waiting = waiting
        self._done = self._failed = 0
        self._lock = threading.Lock()

    def finished(self, outcome: Outcome) -> None:
        with self._lock:
            self._done += 1
            self._failed += outcome.error is not None
        self.draw()

    def draw(self) -> None:
        with self._lock:
            line = f"{self._command}: {self._done}/{self._total} done, {self._failed} failed"
            if self._waiting():
                line += ", waiting on GitHub's rate limit"
            self._stream.write(f"\r\033[K{line}")
            self._stream.flush()

    def clear(self) -> None:
        with self._lock:
            self._stream.write("\r\033[K")
            self._stream.flush()
