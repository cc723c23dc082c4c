"""`audit` over a table of dangerous and safe trust policies, the way they appear in the
wild, on moto; and old access keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ghbootstrap.aws.session import Aws
from ghbootstrap.flows import audit
from tests.conftest import ACCOUNT, CliResult

GH = "token.actions.githubusercontent.com"
PROVIDERS = {
    "github": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GH}",
    "slug": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GH}/octo-enterprise",
    "ghe": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.octo.ghe.com",
    "ghes": f"arn:aws:iam::{ACCOUNT}:oidc-provider/github.example.com/_services/token",
    "google": f"arn:aws:iam::{ACCOUNT}:oidc-provider/accounts.google.com",
}
STS = "sts.amazonaws.com"


def trust(provider: str = "github", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDERS[provider]},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def host(provider: str) -> str:
    return PROVIDERS[provider].split(":oidc-provider/")[1]


def subs(operator: str, value: Any, provider: str = "github", aud: bool = True) -> dict[str, Any]:
    key = host(provider)
    condition: dict[str, Any] = {operator: {f"{key}:sub": value}}
    if aud:
        condition.setdefault("StringEquals", {})[f"{key}:aud"] = STS
    return trust(provider, condition)


# (role name, trust, expected findings as (severity, words in the problem))
TABLE: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    # dangerous
    ("no-conditions", trust(), [("critical", "no conditions")]),
    (
        "aud-only",
        trust(condition={"StringEquals": {f"{GH}:aud": STS}}),
        [("critical", "no sub condition")],
    ),
    ("any-repo", subs("StringLike", "repo:*"), [("critical", "matches any repository")]),
    ("star", subs("StringLike", "*"), [("critical", "matches any repository")]),
    ("owner-wildcard", subs("StringLike", "repo:octo*/*"), [("critical", "wildcard in the owner")]),
    (
        "owner-wildcard-exact-repo",
        subs("StringLike", "repo:*-org/app:ref:refs/heads/main"),
        [("critical", "matches any repository")],
    ),
    (
        "org-wide",
        subs("StringLike", "repo:octo-org/*"),
        [("high", "other repositories of the same owner")],
    ),
    (
        "org-wide-prefix",
        subs("StringLike", "repo:octo-org/app-*:*"),
        [("high", "other repositories")],
    ),
    (
        "owner-claim",
        subs("StringEquals", "repository_owner:octo-org"),
        [("high", "other repositories")],
    ),
    (
        "for-all-values",
        subs("ForAllValues:StringLike", "repo:octo-org/app:*"),
        [("high", "ForAllValues:StringLike")],
    ),
    (
        "for-any-value",
        subs("ForAnyValue:StringEquals", "repo:octo-org/app:ref:refs/heads/main"),
        [("high", "ForAnyValue:StringEquals")],
    ),
    (
        "no-aud",
        subs("StringEquals", "repo:octo-org/app:ref:refs/heads/main", aud=False),
        [("medium", "no aud condition")],
    ),
    (
        "negated-only",
        subs("StringNotLike", "repo:evil/*"),
        [("critical", "lets any repository in")],
    ),
    (
        "enterprise-slug-any",
        subs("StringLike", "repo:*", provider="slug"),
        [("critical", "any repository")],
    ),
    (
        "ghe-com-no-sub",
        trust("ghe", {"StringEquals": {f"{host('ghe')}:aud": STS}}),
        [("critical", "no sub")],
    ),
    ("ghes-no-conditions", trust("ghes"), [("critical", "no conditions")]),
    # safe: one repository's contexts
    ("exact-branch", subs("StringEquals", "repo:octo-org/app:ref:refs/heads/main"), []),
    (
        "environment",
        subs(
            "StringEquals", ["repo:octo-org/app:environment:prod", "repo:octo-org/app:pull_request"]
        ),
        [],
    ),
    ("tag-pattern", subs("StringLike", "repo:octo-org/app:ref:refs/tags/v*"), []),
    ("any-context-one-repo", subs("StringLike", "repo:octo-org/app:*"), []),
    ("immutable", subs("StringEquals", "repo:octo-org@11/app@22:ref:refs/heads/main"), []),
    (
        "repository-id",
        subs("StringEquals", "repository_owner_id:11:repository_id:22:environment:prod"),
        [],
    ),
    ("ghes-exact", subs("StringEquals", "repo:team/app:ref:refs/heads/main", provider="ghes"), []),
    # not GitHub at all: out of scope
    ("google", trust("google"), []),
    (
        "ec2",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        [],
    ),
]


@pytest.fixture
def audited(aws: Aws) -> dict[str, list[dict[str, str]]]:
    for name, document, _ in TABLE:
        aws.iam.raw.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document))
    report = audit.run(aws)
    by_role: dict[str, list[dict[str, str]]] = {name: [] for name, _, _ in TABLE}
    for finding in report.to_json()["findings"]:
        by_role[finding["role"]].append(finding)
    return by_role


@pytest.mark.parametrize(("name", "document", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_audit_table(
    audited: dict[str, list[dict[str, str]]],
    name: str,
    document: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    found = audited[name]
    assert [f["severity"] for f in found] == [severity for severity, _ in expected]
    for finding, (_, words) in zip(found, expected, strict=True):
        assert words in finding["problem"]
        assert finding["fix"]


def test_the_trust_ghbootstrap_writes_is_not_a_finding(
    aws: Aws, gh: Any, fake_github: Any, tmp_path: Any
) -> None:
    from ghbootstrap.flows import oidc
    from ghbootstrap.subjects import Scopes
    from ghbootstrap.target import Names, parse_repo

    ref = parse_repo("octo-org/hello-world")
    scopes = Scopes.parse(branches=["main"], tags=["v*"], environments=["prod"], pull_requests=True)
    request = oidc.OidcRequest(ref=ref, names=Names.resolve(ref), scopes=scopes)
    oidc.run(aws, gh, request, dry_run=False)
    assert audit.run(aws).findings == []


def test_old_active_keys_are_findings(aws: Aws) -> None:
    iam = aws.iam.raw
    iam.create_user(UserName="ci")
    old = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
    later = lambda: datetime.now(UTC) + timedelta(days=200)  # noqa: E731
    report = audit.run(aws, max_key_age_days=90, now=later)
    assert [f.to_json() for f in report.findings] == [
        {
            "user": "ci",
            "severity": "medium",
            "problem": f"active access key {old} is 200 days old (limit 90)",
            "fix": "rotate it (`ghbootstrap rotate OWNER/REPO` for keys ghbootstrap manages), "
            "or move the workload to OIDC",
        }
    ]
    iam.update_access_key(UserName="ci", AccessKeyId=old, Status="Inactive")
    assert audit.run(aws, max_key_age_days=90, now=later).findings == []
    assert audit.run(aws, max_key_age_days=90).findings == []


def test_audit_cli_exit_codes_and_json(cli: Callable[..., CliResult], moto: None) -> None:
    import boto3

    clean = cli("audit")
    assert (clean.code, clean.out) == (
        0,
        "ghbootstrap audit: 0 roles (0 trust GitHub's OIDC), 0 users\nNo findings.\n",
    )
    boto3.client("iam").create_role(
        RoleName="wide-open", AssumeRolePolicyDocument=json.dumps(trust())
    )
    found = cli("audit", "--json")
    assert found.code == 3
    assert json.loads(found.out) == {
        "findings": [
            {
                "role": "wide-open",
                "severity": "critical",
                "problem": f"it trusts {GH} with no conditions: any repository",
                "fix": f"require a StringEquals condition on {GH}:sub naming one repository's "
                "contexts, e.g. repo:OWNER/REPO:ref:refs/heads/main (`ghbootstrap oidc "
                "OWNER/REPO` writes one)",
            }
        ]
    }
