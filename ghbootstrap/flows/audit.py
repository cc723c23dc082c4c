"""`ghbootstrap audit`: find the trust policies that let the wrong GitHub repositories in,
and access keys that have lived too long. Reads only; findings make the exit code 3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ghbootstrap.aws import access_keys, role, user
from ghbootstrap.aws.session import Aws
from ghbootstrap.report import AuditReport, Finding
from ghbootstrap.trusteval import MEDIUM, audit_trust, github_providers

_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _roles(aws: Aws) -> tuple[int, int, list[Finding]]:
    listed = role.list_roles(aws.iam)
    found: list[Finding] = []
    github = 0
    for name, listed_trust in listed:
        if not github_providers(listed_trust):
            continue
        github += 1
        # ListRoles is for finding; GetRole returns the trust exactly as written.
        current = role.get_role(aws.iam, name)
        trust = current.trust if current else listed_trust
        found += [Finding("role", name, f.severity, f.problem, f.fix) for f in audit_trust(trust)]
    return len(listed), github, found


def _old_keys(aws: Aws, max_age_days: int, now: datetime) -> tuple[int, list[Finding]]:
    names = user.list_users(aws.iam)
    found = []
    for name in names:
        for key in access_keys.list_keys(aws.iam, name):
            age = (now - key.created).days
            if key.active and age > max_age_days:
                found.append(
                    Finding(
                        "user",
                        name,
                        MEDIUM,
                        f"active access key {key.id} is {age} days old (limit {max_age_days})",
                        "rotate it (`ghbootstrap rotate OWNER/REPO` for keys ghbootstrap "
                        "manages), or move the workload to OIDC",
                    )
                )
    return len(names), found


def run(
    aws: Aws, *, max_key_age_days: int = 90, now: Callable[[], datetime] | None = None
) -> AuditReport:
    report = AuditReport()
    report.roles_scanned, report.github_roles, role_findings = _roles(aws)
    current = (now or (lambda: datetime.now(UTC)))()
    report.users_scanned, key_findings = _old_keys(aws, max_key_age_days, current)
    report.findings = sorted(
        role_findings + key_findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.kind, f.name)
    )
    return report
