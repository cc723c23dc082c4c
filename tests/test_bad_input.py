"""Every kind of bad input, one table: one line that says what is wrong and what to do, exit 2 for usage and 1 for failures, no traceback, no write anywhere, no token shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from botocore.client import BaseClient
from typer.core import TyperArgument, TyperGroup, TyperOption

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


def _folder(name: str) -> Arrange:
    def arrange(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
        Path(name).mkdir()

    return arrange


def _file(name: str) -> Arrange:
    def arrange(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
        Path(name).write_text("not a folder\n")

    return arrange


def _text(name: str, text: str) -> Arrange:
    def arrange(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
        Path(name).write_text(text)

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
CONTROL = (
    "holds a line break or control character: give the value on one line, without tabs or "
    "other control characters"
)
CASES = [
    # OWNER/REPO
    Case("repo-no-slash", ("oidc", "octo"), 2, "error: 'octo' is not OWNER/REPO: give"),
    Case("repo-no-owner", ("oidc", "/hello"), 2, "error: '/hello' is not OWNER/REPO"),
    Case("repo-no-name", ("keys", "octo/"), 2, "error: 'octo/' is not OWNER/REPO"),
    Case("repo-extra-slash", ("oidc", "a/b/c"), 2, "error: 'a/b/c' is not OWNER/REPO"),
    Case("repo-space", ("oidc", "octo org/r"), 2, "error: 'octo org' is not a GitHub owner"),
    Case(
        "repo-non-ascii", ("oidc", "octo/héllo"), 2, "error: 'h\\xe9llo' is not a GitHub repository"
    ),
    Case("repo-shell", ("rotate", "o/r;rm -rf ~"), 2, "error: 'r;rm -rf ~' is not a GitHub rep"),
    Case("repo-dotdot", ("oidc", "octo/.."), 2, "error: '..' is not a GitHub repository name"),
    Case(
        "repo-url", ("oidc", "https://github.com/o/r"), 2, "error: 'https://github.com/o/r' is not"
    ),
    Case(
        "repo-empty",
        ("oidc", ""),
        2,
        "error: OWNER/REPO is empty: give a value: see 'ghbootstrap oidc --help'",
    ),
    # every command reads its input the same way
    Case("status-repo", ("status", "octo"), 2, "error: 'octo' is not OWNER/REPO"),
    Case("destroy-repo", ("destroy", "a/b/c", "--yes"), 2, "error: 'a/b/c' is not OWNER/REPO"),
    Case(
        "destroy-region",
        ("destroy", R, "--yes", "--region", "us-east-9"),
        2,
        "error: 'us-east-9' is not an AWS region",
    ),
    Case(
        "destroy-no-terminal",
        ("destroy", R),
        2,
        "error: destroy asks for confirmation, and no terminal is attached: pass --yes",
    ),
    # migrate: phase two takes names only, and asks first
    Case("migrate-repo", ("migrate", "octo"), 2, "error: 'octo' is not OWNER/REPO"),
    Case(
        "migrate-finish-open-pr",
        ("migrate", R, "--finish", "--yes", "--open-pr"),
        2,
        "error: --finish contradicts --open-pr: give one or the other",
    ),
    Case(
        "migrate-finish-branch",
        ("migrate", R, "--finish", "--yes", "--branch", "main"),
        2,
        "error: --finish contradicts --branch: give one or the other",
    ),
    Case(
        "migrate-finish-force",
        ("migrate", R, "--finish", "--yes", "--force"),
        2,
        "error: --finish contradicts --force: give one or the other",
    ),
    Case("migrate-yes", ("migrate", R, "--yes"), 2, "error: --yes needs --finish: add --finish"),
    Case(
        "migrate-finish-no-terminal",
        ("migrate", R, "--finish"),
        2,
        "error: migrate --finish asks for confirmation, and no terminal is attached: pass --yes",
    ),
    Case(
        "migrate-finish-path-outside",
        ("migrate", R, "--finish", "--yes", "--workflow-path", "../x.yml"),
        2,
        "error: --workflow-path '../x.yml' is not a path inside the repository",
    ),
    Case(
        "migrate-no-workflow-and-path",
        ("migrate", R, "--no-workflow", "--workflow-path", "x.yml"),
        2,
        "error: --workflow-path contradicts --no-workflow",
    ),
    Case(
        "migrate-environment",
        ("migrate", R, "--no-workflow", "--environment", "a\nb"),
        2,
        f"error: --environment 'a\\nb' {CONTROL}: see 'ghbootstrap migrate --help'\n",
    ),
    Case(
        "status-environment",
        ("status", R, "--environment", "a\nb"),
        2,
        f"error: --environment 'a\\nb' {CONTROL}: see 'ghbootstrap status --help'\n",
    ),
    Case(
        "audit-max-key-age",
        ("audit", "--max-key-age", "0"),
        2,
        "error: Invalid value for '--max-key-age'",
    ),
    Case(
        "audit-region", ("audit", "--region", "mars-1"), 2, "error: 'mars-1' is not an AWS region"
    ),
    # explain: a job described two ways at once, or a pattern where one ref is meant
    Case(
        "explain-branch-and-tag",
        ("explain", R, "--branch", "a", "--tag", "b"),
        2,
        "error: --branch and --tag describe two different jobs",
    ),
    Case(
        "explain-pr-and-branch",
        ("explain", R, "--pull-request", "--branch", "a"),
        2,
        "error: --pull-request describes a pull request",
    ),
    Case(
        "explain-pr-and-tag",
        ("explain", R, "--pull-request", "--tag", "v1"),
        2,
        "error: --pull-request describes a pull request",
    ),
    Case(
        "explain-claims-and-branch",
        ("explain", R, "--claims", "-", "--branch", "a"),
        2,
        "error: --claims describes the job itself",
    ),
    Case(
        "explain-claims-unreadable",
        ("explain", R, "--claims", "/nonexistent/claims.json"),
        2,
        "error: --claims: cannot read /nonexistent",
    ),
    Case(
        "explain-branch-pattern",
        ("explain", R, "--branch", "rel*"),
        2,
        "error: --branch 'rel*' is not one ref name",
    ),
    # the command line itself
    Case(
        "missing-repo",
        ("oidc",),
        2,
        "error: Missing argument 'OWNER/REPO': see 'ghbootstrap oidc --help'",
    ),
    Case("unknown-option", ("oidc", R, "--bogus"), 2, "error: No such option: --bogus"),
    Case("unknown-command", ("nonsense",), 2, "error: No such command 'nonsense'"),
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
        "policy-too-long",
        ("oidc", R, "--policy-name", "x" * 129),
        2,
        "error: '" + "x" * 77 + "...' is not a valid IAM policy",
    ),
    # scopes, cron
    Case(
        "branch-bad",
        ("oidc", R, "--branch", "a..b"),
        2,
        "error: --branch 'a..b' is not a valid git",
    ),
    Case(
        "environment-blank-name",
        ("keys", R, "--environment", "a\tb"),
        2,
        f"error: --environment 'a\\tb' {CONTROL}: see 'ghbootstrap keys --help'\n",
    ),
    Case(
        "branch-full-ref",
        ("oidc", R, "--branch", "refs/heads/main"),
        2,
        "error: --branch 'refs/heads/main' is a full ref name, and ghbootstrap adds "
        "refs/heads/ or refs/tags/ itself: give the short name: --branch main\n",
    ),
    Case(
        "tag-full-ref",
        ("migrate", R, "--no-workflow", "--tag", "refs/tags/v*"),
        2,
        "error: --tag 'refs/tags/v*' is a full ref name, and ghbootstrap adds "
        "refs/heads/ or refs/tags/ itself: give the short name: --tag v*\n",
    ),
    Case(
        "branch-given-a-tag-ref",
        ("oidc", R, "--branch", "refs/tags/v1"),
        2,
        "error: --branch 'refs/tags/v1' is a full ref name, and ghbootstrap adds "
        "refs/heads/ or refs/tags/ itself: give the short name: --tag v1\n",
    ),
    Case(
        "branch-other-ref",
        ("oidc", R, "--branch", "refs/pull/1/merge"),
        2,
        "error: --branch 'refs/pull/1/merge' is a full ref name, and ghbootstrap adds "
        "refs/heads/ or refs/tags/ itself: give the branch or tag name without refs/\n",
    ),
    Case(
        "explain-branch-full-ref",
        ("explain", R, "--branch", "refs/heads/main"),
        2,
        "error: --branch 'refs/heads/main' is a full ref name",
    ),
    Case(
        "environment-twice-for-one-key",
        ("keys", R, "--environment", "prod", "--environment", "staging"),
        2,
        "error: keys keeps one access key, in one place: give --environment once",
    ),
    Case(
        "environment-twice-for-rotate",
        ("rotate", R, "--environment", "prod", "--environment", "prod"),
        2,
        "error: rotate keeps one access key, in one place: give --environment once",
    ),
    # identity: a job workflow as GitHub names it; a trust within IAM's quota
    Case(
        "job-workflow-short-ref",
        ("oidc", R, "--job-workflow", "acme/platform/.github/workflows/build.yml@main"),
        2,
        "error: --job-workflow 'acme/platform/.github/workflows/build.yml@main' is not a "
        "workflow as GitHub's job_workflow_ref names it: give OWNER/REPO/.github/workflows/"
        "FILE.yml@refs/heads/BRANCH (or @refs/tags/TAG)",
    ),
    Case(
        "job-workflow-explain",
        ("explain", R, "--job-workflow", "acme/platform/build.yml@refs/heads/main"),
        2,
        "error: --job-workflow 'acme/platform/build.yml@refs/heads/main' is not a workflow",
    ),
    Case(
        "trust-over-quota",
        (
            "oidc",
            R,
            "--no-workflow",
            *(arg for n in range(16) for arg in ("--branch", f"feature-{n:03d}")),
        ),
        2,
        "error: the trust policy for Octo-Org/Hello-World would be 2,353 characters, over "
        "IAM's quota on a role's trust policy (2,048 characters by default; ghbootstrap keeps "
        "within it): it admits --branch feature-000, --branch feature-001,",
    ),
    # workflow triggers: IAM patterns GitHub's filter syntax cannot express
    Case(
        "tag-question-mark",
        ("oidc", R, "--tag", "v?"),
        2,
        "error: --tag 'v?' has no exact workflow trigger: GitHub's filter syntax has no",
    ),
    Case(
        "branch-question-mark",
        ("oidc", R, "--branch", "release-?", "--branch", "main"),
        2,
        "error: --branch 'release-?' has no exact workflow trigger",
    ),
    # workflow files: checked before any call
    Case(
        "workflow-path-folder",
        ("oidc", R, "--workflow-path", "."),
        2,
        "error: --workflow-path . is a folder: give the path of a file",
    ),
    Case(
        "workflow-path-existing-folder",
        ("keys", R, "--workflow-path", "flows"),
        2,
        "error: --workflow-path flows is a folder: give the path of a file",
        _folder("flows"),
    ),
    Case(
        "workflow-path-under-a-file",
        ("oidc", R, "--workflow-path", "notes.txt/ci.yml"),
        2,
        "error: --workflow-path notes.txt/ci.yml cannot be written: notes.txt is not a folder",
        _file("notes.txt"),
    ),
    Case(
        "rotation-workflow-path-folder",
        ("keys", R, "--rotation-schedule", "0 4 * * 1", "--rotation-workflow-path", "flows"),
        2,
        "error: --rotation-workflow-path flows is a folder",
        _folder("flows"),
    ),
    # contradictory options
    Case(
        "rotation-path-without-workflows",
        (
            "keys",
            R,
            "--no-workflow",
            "--rotation-schedule",
            "0 4 * * 1",
            "--rotation-workflow-path",
            "r.yml",
        ),
        2,
        "error: --rotation-workflow-path contradicts --no-workflow: give one or the other",
    ),
    Case(
        "rotation-path-without-schedule",
        ("keys", R, "--rotation-workflow-path", "r.yml"),
        2,
        "error: --rotation-workflow-path needs --rotation-schedule",
    ),
    Case(
        "workflow-path-without-workflows",
        ("oidc", R, "--workflow-path", "w.yml", "--no-workflow"),
        2,
        "error: --workflow-path contradicts --no-workflow: give one or the other",
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
        "apply-file-value-with-line-break",
        ("apply", "fleet.toml"),
        2,
        f"error: repository[1] octo-org/hello-world: branches 'a\\nb' {CONTROL}\n",
        _text(
            "fleet.toml", '[[repository]]\nname = "octo-org/hello-world"\nbranches = ["a\\nb"]\n'
        ),
    ),
    Case(
        # was taken: apply wrote a file named so and recorded it on the role
        "apply-file-workflow-path-with-control-characters",
        ("apply", "fleet.toml"),
        2,
        f"error: repository[1] octo-org/hello-world: workflow 'a\\tb\\n.yml' {CONTROL}\n",
        _text(
            "fleet.toml",
            '[[repository]]\nname = "octo-org/hello-world"\nworkflow = "a\\tb\\n.yml"\n',
        ),
    ),
    Case(
        "apply-file-default-with-control-character",
        ("apply", "fleet.toml"),
        2,
        f"error: [defaults]: profile 'ci\\x1b[0m' {CONTROL}\n",
        _text(
            "fleet.toml",
            '[defaults]\nprofile = "ci\\u001b[0m"\n[[repository]]\nname = "octo-org/hello-world"\n',
        ),
    ),
    Case(
        "apply-file-nested-too-deep",  # was 'unexpected RecursionError: report it', exit 1
        ("apply", "fleet.toml"),
        2,
        "error: fleet.toml nests arrays or tables too deeply to read: fix the file and run again\n",
        _text("fleet.toml", "x = " + "[" * 100_000),
    ),
    Case(
        "cron-never",
        ("keys", R, "--rotation-schedule", "0 0 31 2 *"),
        2,
        "error: '0 0 31 2 *' never runs: day 31 of month 2 never comes, so the key would never "
        "rotate: give a day of the month that comes, for example '17 4 1 * *' (the 1st, 04:17 "
        "UTC)\n",
    ),
    Case(
        "cron-april-31",
        ("keys", R, "--rotation-schedule", "0 4 31 APR *", "--open-pr"),
        2,
        "error: '0 4 31 APR *' never runs: day 31 of month APR never comes",
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
    Case(
        "issuer-http",
        ("oidc", R, "--issuer-url", "http://x"),
        2,
        "error: 'http://x' is not an OIDC issuer",
    ),
    Case(
        "migrate-issuer-http",
        ("migrate", R, "--issuer-url", "http://x", "--no-workflow"),
        2,
        "error: 'http://x' is not an OIDC issuer",
    ),
    Case(
        "issuer-default-from-a-bad-github-api-url",  # the host's issuer: the URL checked first
        ("oidc", R, "--github-api-url", "ghe.example/api/v3", "--no-workflow"),
        2,
        "error: 'ghe.example/api/v3' is not a GitHub API URL",
    ),
    Case(
        "github-api-url",
        ("oidc", R, "--github-api-url", "ftp://x"),
        2,
        "error: 'ftp://x' is not a GitHub API URL",
    ),
    # credentials and tokens
    Case(
        "github-api-url-with-credentials",  # never echoed, never put in a printed command
        (
            "keys",
            R,
            "--github-api-url",
            "https://x-access-token:ghp_not_a_real_token_123@h.example",
        ),
        2,
        "error: 'https://***@h.example' holds credentials: give the URL without them, and the "
        "token in GITHUB_TOKEN or GH_TOKEN\n",
    ),
    Case(
        "github-api-url-env-with-credentials",
        ("scan", "octo-org"),
        2,
        "error: 'https://***@h.example/api/v3' holds credentials",
        _env(GITHUB_API_URL="https://ghp_not_a_real_token_123@h.example/api/v3"),
    ),
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


@pytest.fixture
def aws_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS API call botocore makes, by operation name."""
    made: list[str] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: Any) -> Any:
        made.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return made


def _files(root: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in root.rglob("*") if p.is_file()}


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
    files = _files(tmp_path)
    result = cli(*case.args)

    assert result.code == case.code, result.err
    assert result.err.startswith(case.message), result.err
    assert result.err.count("\n") == 1  # one line, whatever the value held
    assert "Traceback" not in result.err
    assert result.out == ""

    # -v adds call logs and a traceback above the same line, and changes nothing else
    verbose = cli(*case.args, "-v")
    assert (verbose.code, verbose.out) == (case.code, "")
    assert verbose.err.endswith(result.err), verbose.err
    if verbose.err != result.err:
        assert "Traceback (most recent call last):\n" in verbose.err

    assert fake_github.writes() == []
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert aws_is_empty()
    assert _files(tmp_path) == files
    for token in (fake_github.token, "ghp_not_a_real_token_123"):
        assert token not in result.err + verbose.err


# -- an explicit empty value, for every option of every command --------------------------------


def _value_parameters() -> list[tuple[str, str, bool]]:
    """(command, option or argument, takes OWNER/REPO) for every parameter that takes a
    value, read from the real command tree: options added later are covered too."""
    from ghbootstrap.cli import app

    found = []
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    for name, command in sorted(root.commands.items()):
        takes_repo = any(isinstance(p, TyperArgument) for p in command.params)
        for param in command.params:
            if isinstance(param, TyperOption) and (param.is_flag or param.count):
                continue
            label = param.name if isinstance(param, TyperArgument) else max(param.opts, key=len)
            found.append((name, label, takes_repo))
    return found


VALUE_PARAMETERS = _value_parameters()
ARGUMENTS = {"repository": "OWNER/REPO", "file": "FILE", "owner": "OWNER"}  # positional


def test_every_command_has_value_options() -> None:
    """The walk sees the options we know of (so an empty list cannot pass the test below)."""
    seen = {(command, option) for command, option, _ in VALUE_PARAMETERS}
    assert {
        ("oidc", "--region"),
        ("oidc", "--workflow-path"),
        ("oidc", "--branch"),
        ("keys", "--rotation-workflow-path"),
        ("keys", "--propagation-timeout"),
        ("destroy", "--region"),
        ("destroy", "--github-api-url"),
        ("status", "--environment"),
        ("audit", "--max-key-age"),
        ("rotate", "repository"),
        ("migrate", "--workflow-path"),
        ("migrate", "--user-name"),
    } <= seen


@pytest.mark.parametrize(
    ("command", "option", "takes_repo"),
    VALUE_PARAMETERS,
    ids=[f"{c} {o}" for c, o, _ in VALUE_PARAMETERS],
)
@pytest.mark.parametrize("spelling", ["separate", "equals", "blank", "line break"])
def test_an_empty_or_multi_line_value_is_bad_input(
    command: str,
    option: str,
    takes_repo: bool,
    spelling: str,
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    aws_requests: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`--region ""` (as `--region "$REGION"` with REGION unset) is never "use the default".
    No value holds a line break or control character: the error shows the value on its one
    line, escaped and cut short, whichever option took it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # an env default, overridden
    value = {"blank": "  ", "line break": "x\n" + "y" * 200}.get(spelling, "")
    if option in ARGUMENTS:
        args = [command, value]
        name, fix = ARGUMENTS[option], "give a value"
    else:
        given = [f"{option}={value}"] if spelling == "equals" else [option, value]
        args = [command, *([R] if takes_repo else []), *given]
        name, fix = option, "give a value, or leave the option out"
    if command in ("destroy", "migrate"):
        args.append("--yes" if command == "destroy" else "--no-workflow")
    what = f"{name} is empty: {fix}"
    if spelling == "line break":
        what = f"{name} 'x\\n{'y' * 74}...' {CONTROL}"
    result = cli(*args)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {what}: see 'ghbootstrap {command} --help'\n"
    assert aws_requests == []
    assert fake_github.requests == []
    assert list(tmp_path.iterdir()) == []


def test_an_empty_value_among_repeated_ones_is_bad_input(
    cli: Cli, fake_github: FakeGitHub, aws_requests: list[str]
) -> None:
    result = cli("oidc", R, "--branch", "main", "--branch", "")
    assert (result.code, result.err) == (
        2,
        "error: --branch is empty: give a value, or leave the option out: "
        "see 'ghbootstrap oidc --help'\n",
    )
    assert aws_requests == []
    assert fake_github.requests == []
