"""--open-pr: the workflow files as one pull request, idempotent, never over someone's file."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from ghbootstrap.report import Report
from tests.conftest import CliResult
from tests.fakes.github import FakeGitHub, Token

Cli = Callable[..., CliResult]
REPO = "Octo-Org/Hello-World"
BRANCH = "ghbootstrap/ecr-build-push"
BUILD = ".github/workflows/ecr-build-push.yml"
ROTATE = ".github/workflows/rotate-aws-keys.yml"
V010 = Path(__file__).parent / "data" / "v0.1.0"
PR_URL = f"https://github.com/{REPO}/pull/1"


def writes(fake: FakeGitHub, since: int = 0) -> list[str]:
    """GitHub writes other than variables and secrets: the delivery's own."""
    return [w for w in fake.writes()[since:] if "/actions/" not in w]


def text(fake: FakeGitHub, branch: str, path: str) -> str:
    return fake.repo(REPO).branch_files(branch)[path].decode()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Outside any checkout: --open-pr needs none, and writes no local file."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_oidc_opens_one_pull_request_and_a_rerun_writes_nothing(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    first = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert first.code == 0, first.err
    assert f"\nPull request    {PR_URL}\n" in first.out
    repo = fake_github.repo(REPO)
    assert writes(fake_github) == [
        "POST /repos/Octo-Org/Hello-World/git/refs",
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml",
        "POST /repos/Octo-Org/Hello-World/pulls",
    ]
    [pull] = repo.pulls
    assert (pull.head, pull.base, pull.state) == (BRANCH, "main", "open")
    assert "arn:aws:iam::123456789012:role/ghbootstrap-octo-org-hello-world" in pull.body
    assert "Merging this pull request adds (or upgrades)" in pull.body
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in text(fake_github, BRANCH, BUILD)
    assert BUILD not in repo.files  # the default branch changes only when merged
    assert list(here.iterdir()) == []  # no local file

    before = len(fake_github.writes())
    again = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert again.code == 0, again.err
    assert fake_github.writes()[before:] == []
    assert PR_URL in again.out

    fake_github.merge(REPO, pull.number)
    assert text(fake_github, "main", BUILD) == text(fake_github, BRANCH, BUILD)
    merged = cli("oidc", "octo-org/hello-world", "--open-pr", "--json")
    assert merged.code == 0, merged.err
    assert fake_github.writes()[before:] == []
    assert '"main already holds the current workflow"' in merged.out


def test_keys_with_a_schedule_puts_both_workflows_in_one_pull_request(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    result = cli("keys", "octo-org/hello-world", "--rotation-schedule", "17 4 * * 1", "--open-pr")
    assert result.code == 0, result.err
    [pull] = fake_github.repo(REPO).pulls
    assert "aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}" in text(fake_github, BRANCH, BUILD)
    assert "ghbootstrap rotate Octo-Org/Hello-World" in text(fake_github, BRANCH, ROTATE)
    assert "`17 4 * * 1`" in pull.body
    assert "GHBOOTSTRAP_GITHUB_TOKEN" in pull.body
    assert len([w for w in writes(fake_github) if "/pulls" in w]) == 1


def test_other_content_on_the_branch_is_updated_in_the_open_pull_request(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("oidc", "octo-org/hello-world", "--open-pr").code == 0
    before = len(fake_github.writes())
    # other scopes: other content, committed on the same branch, same pull request
    result = cli("oidc", "octo-org/hello-world", "--open-pr", "--tag", "v*")
    assert result.code == 0, result.err
    assert writes(fake_github, before) == [
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml"
    ]
    assert len(fake_github.repo(REPO).pulls) == 1
    assert 'tags: ["v**"]' in text(fake_github, BRANCH, BUILD)
    assert "update     pull request" in result.out


def test_a_file_ghbootstrap_did_not_write_stops_the_run(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    repo = fake_github.repo(REPO)
    repo.files[BUILD] = b"name: mine\n"
    refused = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert refused.code == 2
    assert refused.err.startswith(f"error: refusing to overwrite {BUILD}: it differs")
    assert fake_github.writes() == []
    assert set(repo.branches) == {"main"}
    assert repo.pulls == []
    forced = cli("oidc", "octo-org/hello-world", "--open-pr", "--force")
    assert forced.code == 0, forced.err
    assert "role-to-assume" in text(fake_github, BRANCH, BUILD)
    assert repo.files[BUILD] == b"name: mine\n"  # replaced only when the PR is merged
    assert len(repo.pulls) == 1


def test_a_0_1_0_file_on_the_default_branch_is_upgraded_by_pull_request(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    repo = fake_github.repo(REPO)
    repo.files[BUILD] = (V010 / "oidc-default.yml").read_bytes()
    result = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert result.code == 0, result.err
    assert "update .github/workflows/ecr-build-push.yml" in result.out
    fake_github.merge(REPO, 1)
    status = cli("status", "octo-org/hello-world", "--json")
    assert '"current"' in status.out


def test_after_a_merge_a_stale_branch_is_reset_and_a_new_pull_request_opened(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("oidc", "octo-org/hello-world", "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    before = len(fake_github.writes())
    result = cli("oidc", "octo-org/hello-world", "--open-pr", "--pull-requests")
    assert result.code == 0, result.err
    assert writes(fake_github, before) == [
        "PATCH /repos/Octo-Org/Hello-World/git/refs/heads%2Fghbootstrap%2Fecr-build-push",
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml",
        "POST /repos/Octo-Org/Hello-World/pulls",
    ]
    assert [p.state for p in fake_github.repo(REPO).pulls] == ["closed", "open"]


def test_dry_run_reads_only(cli: Cli, moto: None, fake_github: FakeGitHub, here: Path) -> None:
    result = cli("oidc", "octo-org/hello-world", "--open-pr", "--dry-run")
    assert result.code == 0, result.err
    assert "create     pull request" in result.out
    assert f"create pull request {BRANCH} -> main:\n# {BUILD}\n" in result.out
    assert fake_github.writes() == []


def test_a_classic_token_without_the_workflow_scope_is_stopped_up_front(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.tokens[fake_github.token] = Token(scopes="repo")
    result = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert result.code == 1
    assert result.err == (
        "error: the GitHub token lacks the workflow scope, which opening a pull request "
        "that changes workflows needs: add it to the token (fine-grained tokens: see the "
        "README's permissions)\n"
    )
    assert fake_github.writes() == []


@pytest.mark.parametrize(
    ("missing", "permission"),
    [
        ("workflows", "Contents: read and write, and Workflows: read and write"),
        ("pull_requests", "Pull requests: read and write"),
    ],
)
def test_a_fine_grained_token_fails_on_the_first_refused_write_naming_the_permission(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path, missing: str, permission: str
) -> None:
    token = fake_github.tokens[fake_github.token]
    token.permissions = token.permissions - {missing}
    result = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert f"give the token {permission} on this repository" in result.err


def test_a_refused_pull_request_says_the_branch_holds_the_change_and_a_rerun_opens_it(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """Contents and Workflows write, but not Pull requests: the branch is pushed before
    GitHub refuses the pull request. The vendored API subset has no git/delete-ref, so the
    branch stays; the line says so, and a re-run with the permission opens the one PR."""
    token = fake_github.tokens[fake_github.token]
    token.permissions = token.permissions - {"pull_requests"}
    refused = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert refused.code == 1
    assert refused.err == (
        "error: the GitHub token may not open a pull request in Octo-Org/Hello-World (403 "
        "Resource not accessible by personal access token); branch ghbootstrap/ecr-build-push "
        "holds the change: give the token Pull requests: read and write on this repository "
        "(classic tokens: the repo scope), then run the command again to open the pull "
        "request\n"
    )
    assert fake_github.repo(REPO).pulls == []
    token.permissions = token.permissions | {"pull_requests"}
    before = len(fake_github.writes())
    again = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert again.code == 0, again.err
    assert writes(fake_github, before) == [
        "PATCH /repos/Octo-Org/Hello-World/git/refs/heads%2Fghbootstrap%2Fecr-build-push",
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml",
        "POST /repos/Octo-Org/Hello-World/pulls",
    ]
    assert [p.state for p in fake_github.repo(REPO).pulls] == ["open"]
    assert "role-to-assume" in text(fake_github, BRANCH, BUILD)


def test_the_setup_report_names_the_pull_request(
    moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    from ghbootstrap.aws.session import connect
    from ghbootstrap.flows import oidc
    from ghbootstrap.github.connect import connect as connect_github
    from ghbootstrap.secret import Secret
    from ghbootstrap.target import Names, parse_repo
    from tests.fakes.serve import GITHUB_API

    ref = parse_repo("octo-org/hello-world")
    request = oidc.OidcRequest(
        ref=ref, names=Names.resolve(ref), workflow_path=Path(BUILD), open_pr=True
    )
    gh = connect_github(GITHUB_API, Secret(fake_github.token))
    report: Report = oidc.run(connect(None, "us-east-1"), gh, request, dry_run=False)
    assert report.outputs["pull_request"] == PR_URL
    content = base64.b64encode(fake_github.repo(REPO).branch_files(BRANCH)[BUILD]).decode()
    assert content


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--no-workflow",),
            "error: --open-pr contradicts --no-workflow: give one or the other\n",
        ),
        (
            ("--workflow-path", "/etc/ci.yml"),
            "error: --workflow-path '/etc/ci.yml' is not a path inside the repository: with "
            "--open-pr give a relative path such as .github/workflows/ecr.yml\n",
        ),
        (
            ("--workflow-path", "../ci.yml"),
            "error: --workflow-path '../ci.yml' is not a path inside the repository: with "
            "--open-pr give a relative path such as .github/workflows/ecr.yml\n",
        ),
    ],
)
def test_open_pr_bad_input_is_refused_before_any_call(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("oidc", "octo-org/hello-world", "--open-pr", *args)
    assert (result.code, result.err) == (2, message)
    assert fake_github.requests == []


def test_open_pr_takes_a_path_inside_the_repository(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    result = cli("oidc", "octo-org/hello-world", "--open-pr", "--workflow-path", "ci/./b.yml")
    assert result.code == 0, result.err
    assert "ci/b.yml" in fake_github.repo(REPO).branch_files(BRANCH)
