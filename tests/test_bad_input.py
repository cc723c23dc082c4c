"""Every kind of bad input, one table: one or two lines that say what is wrong and what to
do, exit 2 for usage and 1 for failures, no traceback, no write anywhere, no token shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from tests.checkouts import git_checkout
from tests.conftest import CliResult
from tests.fakes.github import ALL_PERMISSIONS, FakeGitHub, Token

Cli = Callable[..., CliResult]
Arrange = Callable[[pytest.MonkeyPatch, FakeGitHub], None]


def _nothing(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
    return None


def _env(**values: str | None) -> Arrange:
    def arrange(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)

    return arrange


def _token(**grant: object) -> Arrange:
    def arrange(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
        fake.tokens[fake.token] = Token(**grant)  # type: ignore[arg-type]

    return arrange


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    message: str
    arrange: Arrange = field(default=_nothing)


R = "octo-org/hello-world"
CASES = [
    # OWNER/REPO
    Case("repo-no-slash", ("oidc", "octo"), 2, "error: 'octo' is not OWNER/REPO: give"),
    Case("repo-no-owner", ("oidc", "/hello"), 2, "error: '/hello' is not OWNER/REPO"),
    Case("repo-no-name", ("keys", "octo/"), 2, "error: 'octo/' is not OWNER/REPO"),
    Case("repo-extra-slash", ("oidc", "a/b/c"), 2, "error: 'a/b/c' is not OWNER/REPO"),
    Case("repo-space", ("oidc", "octo org/r"), 2, "error: 'octo org' is not a GitHub owner"),
    Case("repo-non-ascii", ("oidc", "octo/héllo"), 2, "error: 'h?llo' is not a GitHub repository"),
    Case("repo-shell", ("rotate", "o/r;rm -rf ~"), 2, "error: 'r;rm -rf ~' is not a GitHub rep"),
    Case("repo-dotdot", ("oidc", "octo/.."), 2, "error: '..' is not a GitHub repository name"),
    Case(
        "repo-url", ("oidc", "https://github.com/o/r"), 2, "error: 'https://github.com/o/r' is not"
    ),
    # AWS names and region
    Case(
        "region", ("oidc", R, "--region", "us-east-9"), 2, "error: 'us-east-9' is not an AWS region"
    ),
    Case(
        "ecr-name", ("oidc", R, "--ecr-repo", "Has Caps"), 2, "error: 'Has Caps' is not a valid ECR"
    ),
    Case("ecr-too-short", ("keys", R, "--ecr-repo", "a"), 2, "error: 'a' is not a valid ECR"),
    Case(
        "role-too-long",
        ("oidc", R, "--role-name", "r" * 65),
        2,
        "error: '" + "r" * 65 + "' is not a valid IAM role",
    ),
    Case(
        "user-chars",
        ("keys", R, "--user-name", "ci user"),
        2,
        "error: 'ci user' is not a valid IAM user",
    ),
    Case(
        "policy-empty", ("oidc", R, "--policy-name", ""), 2, "error: '' is not a valid IAM policy"
    ),
    # scopes, cron
    Case(
        "branch-empty", ("oidc", R, "--branch", ""), 2, "error: --branch '' is not a valid git ref"
    ),
    Case("tag-empty", ("oidc", R, "--tag", ""), 2, "error: --tag '' is not a valid git ref"),
    Case(
        "environment-empty", ("keys", R, "--environment", ""), 2, "error: --environment '' is not"
    ),
    Case(
        "cron-fields",
        ("keys", R, "--rotation-schedule", "0 4 * *"),
        2,
        "error: '0 4 * *' is not a valid five-field cron",
    ),
    Case(
        "cron-range",
        ("keys", R, "--rotation-schedule", "61 4 * * *"),
        2,
        "error: '61 4 * * *' is not a valid",
    ),
    Case(
        "timeout",
        ("rotate", R, "--propagation-timeout", "0"),
        2,
        "error: Invalid value for '--propagation-timeout'",
    ),
    Case(
        "issuer",
        ("oidc", R, "--issuer-url", "token.actions"),
        2,
        "error: 'token.actions' is not an OIDC issuer",
    ),
    # credentials and tokens
    Case(
        "aws-profile",
        ("oidc", R, "--profile", "nope"),
        2,
        "error: AWS profile 'nope' is not in your AWS config",
    ),
    Case(
        "aws-credentials",
        ("oidc", R),
        2,
        "error: no AWS credentials found: set AWS_PROFILE",
        _env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None),
    ),
    Case(
        "github-token-missing",
        ("keys", R),
        2,
        "error: no GitHub token found: set GITHUB_TOKEN",
        _env(GITHUB_TOKEN=None),
    ),
    Case(
        "github-token-rejected",
        ("oidc", R),
        1,
        "error: GitHub rejected the token (401) while trying to read",
        _env(GITHUB_TOKEN="ghp_not_a_real_token_123"),
    ),
    Case(
        "github-token-no-permission",
        ("oidc", R),
        1,
        "error: the GitHub token may not read variable AWS_ROLE_ARN of Octo-Org/Hello-World (403 Resource not accessible by personal access token): give the token Variables: read and write",
        _token(permissions=frozenset({"metadata", "actions"})),
    ),
    Case(
        "github-token-no-secrets",
        ("keys", R),
        1,
        "error: the GitHub token may not read the public key",
        _token(permissions=ALL_PERMISSIONS - {"secrets"}),
    ),
    Case(
        "github-read-only-account",
        ("oidc", R),
        1,
        "error: your GitHub account can only read Octo-Org/Hello-World",
        _token(role="read"),
    ),
    Case(
        "github-classic-no-repo-scope",
        ("oidc", R),
        1,
        "error: the GitHub token has scopes 'read:org, gist'",
        _token(scopes="read:org, gist"),
    ),
    Case(
        "github-environment-needs-admin",
        ("oidc", R, "--environment", "prod"),
        1,
        "error: environment prod does not exist in Octo-Org/Hello-World, and creating it needs admin",
        _token(role="write"),
    ),
    Case(
        "github-repo-missing",
        ("oidc", "octo-org/nope", "--no-workflow"),
        1,
        "error: GitHub repository octo-org/nope not found",
    ),
    # unreachable
    Case(
        "aws-unreachable",
        ("oidc", R),
        1,
        "error: cannot reach AWS for sts:GetCallerIdentity: check your network",
        _env(AWS_ENDPOINT_URL="http://127.0.0.1:9"),
    ),
    Case(
        "github-unreachable",
        ("keys", R, "--github-api-url", "http://127.0.0.1:9", "--no-workflow"),
        1,
        "error: cannot reach GitHub at http://127.0.0.1:9 to read octo-org/hello-world",
    ),
    # order of operations
    Case(
        "rotate-never-bootstrapped",
        ("rotate", R),
        1,
        "error: IAM user ghbootstrap-octo-org-hello-world holds no key ghbootstrap installed",
    ),
]


def aws_is_empty() -> bool:
    session = boto3.Session("testing", "testing", region_name="us-east-1")
    iam, ecr = session.client("iam"), session.client("ecr")
    return not (
        iam.list_roles()["Roles"]
        or iam.list_users()["Users"]
        or iam.list_policies(Scope="Local")["Policies"]
        or iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        or ecr.describe_repositories()["repositories"]
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case,
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(git_checkout(tmp_path, "Octo-Org/Hello-World"))
    case.arrange(monkeypatch, fake_github)
    result = cli(*case.args)

    assert result.code == case.code, result.err
    assert result.err.startswith(case.message), result.err
    assert 1 <= result.err.count("\n") <= 2
    assert "Traceback" not in result.err
    assert result.out == ""
    assert fake_github.writes() == []
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert aws_is_empty()
    assert not any(p.is_file() for p in tmp_path.rglob("*") if ".git" not in p.parts)
    for token in (fake_github.token, "ghp_not_a_real_token_123"):
        assert token not in result.err
