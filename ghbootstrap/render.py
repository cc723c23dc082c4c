"""Turn a Report into what people read (text) or programs read (one JSON object)."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any

from ghbootstrap.documents import render as render_document
from ghbootstrap.explain import Explanation
from ghbootstrap.plan import Action, AuditReport, Report

Rendered = Report | AuditReport | Explanation


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
}


def as_text(report: Rendered) -> str:
    if isinstance(report, AuditReport):
        return _audit_text(report)
    if isinstance(report, Explanation):
        return report.text()
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
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _past(action: Action) -> str:
    return {Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted"}[action]


def as_json(report: Rendered) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=False)


FORMATTERS: dict[Format, Callable[[Rendered], str]] = {
    Format.TEXT: as_text,
    Format.JSON: as_json,
}
