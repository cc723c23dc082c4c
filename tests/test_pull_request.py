"""--open-pr: the workflow files as one pull request, idempotent, never over someone's file."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ghbootstrap import frozen_v0_2_0
from ghbootstrap.delivery import signed, unedited
from ghbootstrap.report import Report
from tests.conftest import CliResult
from tests.fakes.github import TOKEN_USER, FakeGitHub, Pull, Token, _git_sha
from tests.faults import fail_github

Cli = Callable[..., CliResult]
REPO = "Octo-Org/Hello-World"
BRANCH = "ghbootstrap/ecr-build-push"
BUILD = ".github/workflows/ecr-build-push.yml"
ROTATE = ".github/workflows/rotate-aws-keys.yml"
V010 = Path(__file__).parent / "data" / "v0.1.0"
PR_URL = f"https://github.com/{REPO}/pull/1"
MARKER = re.compile(r"\n\n<!-- ghbootstrap: [0-9a-f]{16} -->\Z")


def writes(fake: FakeGitHub, since: int = 0) -> list[str]:
    """GitHub writes other than variables and secrets: the delivery's own."""
    return [w for w in fake.writes()[since:] if "/actions/" not in w]


def text(fake: FakeGitHub, branch: str, path: str) -> str:
    return fake.repo(REPO).branch_files(branch)[path].decode()


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
    [pull] = fake_github.repo(REPO).pulls
    assert "`repo:Octo-Org/Hello-World:ref:refs/heads/main`" in pull.body
    before = len(fake_github.writes())
    # other scopes: other content, committed on the same branch, same pull request, whose
    # description follows: it names who may assume the role
    result = cli("oidc", "octo-org/hello-world", "--open-pr", "--tag", "v*")
    assert result.code == 0, result.err
    assert writes(fake_github, before) == [
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml",
        "PATCH /repos/Octo-Org/Hello-World/pulls/1",
    ]
    assert len(fake_github.repo(REPO).pulls) == 1
    assert 'tags: ["v**"]' in text(fake_github, BRANCH, BUILD)
    assert "update     pull request" in result.out
    assert "`repo:Octo-Org/Hello-World:ref:refs/tags/v*`" in pull.body
    assert "refs/heads/main" not in pull.body
    assert (
        "  update     pull request          #1  (ghbootstrap/ecr-build-push -> main: commits "
        f"{BUILD}; a new title and description, for this setup)\n"
    ) in result.out
    assert MARKER.search(pull.body)
    assert unedited(pull.title, pull.body)
    again = len(fake_github.writes())
    assert cli("oidc", "octo-org/hello-world", "--open-pr", "--tag", "v*").code == 0
    assert fake_github.writes()[again:] == []


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
    assert f"; branch {BRANCH} is deleted again: " in result.err
    assert set(fake_github.repo(REPO).branches) == {"main"}  # nothing left half-done


def test_a_refused_pull_request_deletes_the_branch_it_pushed_and_a_rerun_opens_it(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """Contents and Workflows write, but not Pull requests: the branch is pushed before
    GitHub refuses the pull request. The run deletes the branch again at once (the line
    says so), and a re-run with the permission starts afresh and opens the one PR."""
    token = fake_github.tokens[fake_github.token]
    token.permissions = token.permissions - {"pull_requests"}
    refused = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert refused.code == 1
    assert refused.err == (
        "error: the GitHub token may not open a pull request in Octo-Org/Hello-World (403 "
        "Resource not accessible by personal access token); branch ghbootstrap/ecr-build-push "
        "is deleted again: give the token Pull requests: read and write on this repository "
        "(classic tokens: the repo scope), then run the command again\n"
    )
    assert writes(fake_github) == [
        "POST /repos/Octo-Org/Hello-World/git/refs",
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml",
        "POST /repos/Octo-Org/Hello-World/pulls",
        "DELETE /repos/Octo-Org/Hello-World/git/refs/heads%2Fghbootstrap%2Fecr-build-push",
    ]
    assert set(fake_github.repo(REPO).branches) == {"main"}
    assert fake_github.repo(REPO).pulls == []
    token.permissions = token.permissions | {"pull_requests"}
    before = len(fake_github.writes())
    again = cli("oidc", "octo-org/hello-world", "--open-pr")
    assert again.code == 0, again.err
    assert writes(fake_github, before) == [
        "POST /repos/Octo-Org/Hello-World/git/refs",
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


# -- the branch is shared ground: someone else's commit on it ---------------------------------

R = "octo-org/hello-world"
EDITED = b"# reviewed: build on pushes only\n"


def head(fake: FakeGitHub) -> str:
    return fake.repo(REPO).branches[BRANCH]


def refusal(sha: str, subject: str = "Tighten the workflow", author: str = "Rita Reviewer") -> str:
    return (
        f"error: branch {BRANCH} of Octo-Org/Hello-World ends with commit {sha} by {author} "
        f'("{subject}"), which ghbootstrap did not make: someone changed pull request #1; '
        f"nothing was written: review that commit in {PR_URL}, or pass --force to commit "
        "ghbootstrap's files on top of it\n"
    )


def test_each_commit_names_the_file_it_wrote_in_a_trailer(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("keys", R, "--rotation-schedule", "17 4 * * 1", "--open-pr").code == 0
    repo = fake_github.repo(REPO)
    files = repo.branch_files(BRANCH)
    last = repo.log[head(fake_github)]
    first = repo.log[last.parent or ""]
    for made, path in ((first, BUILD), (last, ROTATE)):
        assert made.message == (
            "Add or update the workflows ghbootstrap writes\n\n"
            f"Ghbootstrap-File: {_git_sha(files[path])} {path}\n"
        )


def test_a_reviewers_commit_on_the_branch_is_not_written_over(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """The reproduction: a reviewer pushed a change to the workflow on the pull request's
    branch; the same command run again stops (exit 1, naming the commit) and writes
    nothing, a dry run too; --force commits ghbootstrap's file on top of it."""
    assert cli("oidc", R, "--open-pr").code == 0
    ours = fake_github.repo(REPO).branch_files(BRANCH)[BUILD]
    sha = fake_github.push(REPO, BRANCH, {BUILD: ours + EDITED})
    before = len(fake_github.writes())
    for dry_run in ((), ("--dry-run",)):
        refused = cli("oidc", R, "--open-pr", *dry_run)
        assert (refused.code, refused.out, refused.err) == (1, "", refusal(sha))
    assert fake_github.writes()[before:] == []
    assert head(fake_github) == sha

    forced = cli("oidc", R, "--open-pr", "--force")
    assert forced.code == 0, forced.err
    assert f"over commit {sha} by Rita Reviewer (--force)" in forced.out
    assert writes(fake_github, before) == [
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml"
    ]
    assert fake_github.repo(REPO).branch_files(BRANCH)[BUILD] == ours
    assert fake_github.repo(REPO).log[head(fake_github)].parent == sha  # kept in the history
    again = len(fake_github.writes())
    assert cli("oidc", R, "--open-pr").code == 0  # ghbootstrap's own commit heads it again
    assert fake_github.writes()[again:] == []


def test_a_reviewers_commit_that_leaves_our_files_alone_stops_only_a_change(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("oidc", R, "--open-pr").code == 0
    sha = fake_github.push(REPO, BRANCH, {"Dockerfile": b"FROM scratch\n"}, "Add a Dockerfile")
    before = len(fake_github.writes())
    same = cli("oidc", R, "--open-pr")
    assert same.code == 0, same.err  # nothing to write: nothing to refuse
    assert fake_github.writes()[before:] == []
    other = cli("oidc", R, "--open-pr", "--tag", "v*")
    assert (other.code, other.err) == (1, refusal(sha, "Add a Dockerfile"))
    assert fake_github.writes()[before:] == []


def test_a_closed_pull_requests_branch_with_someone_elses_commit_is_kept(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("oidc", R, "--open-pr").code == 0
    sha = fake_github.push(REPO, BRANCH, {"notes.md": b"why we closed this\n"}, "Notes")
    fake_github.close(REPO, 1)
    before = len(fake_github.writes())
    refused = cli("oidc", R, "--open-pr")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        f"error: branch {BRANCH} of Octo-Org/Hello-World ends with commit {sha} by Rita "
        'Reviewer ("Notes"), which ghbootstrap did not make, and no open or merged pull '
        "request holds it; nothing was written: delete the branch if nobody needs that "
        "commit, or pass --force to start the branch afresh from main\n"
    )
    assert fake_github.writes()[before:] == []
    forced = cli("oidc", R, "--open-pr", "--force")
    assert forced.code == 0, forced.err
    assert "notes.md" not in fake_github.repo(REPO).branch_files(BRANCH)
    assert [p.state for p in fake_github.repo(REPO).pulls] == ["closed", "open"]


def test_a_reviewers_commit_a_merge_took_in_does_not_stop_the_next_pull_request(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("oidc", R, "--open-pr").code == 0
    fake_github.push(REPO, BRANCH, {"Dockerfile": b"FROM scratch\n"}, "Add a Dockerfile")
    fake_github.merge(REPO, 1)
    result = cli("oidc", R, "--open-pr", "--tag", "v*")
    assert result.code == 0, result.err
    assert [p.state for p in fake_github.repo(REPO).pulls] == ["closed", "open"]
    assert 'tags: ["v**"]' in text(fake_github, BRANCH, BUILD)


def test_a_branch_0_2_0_made_is_recognised_by_its_message_and_intact_files(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """0.2.0 wrote no trailer: its commit is known by its message while the files it
    wrote are unchanged (their digest line still matches)."""
    assert cli("oidc", R, "--open-pr").code == 0
    repo = fake_github.repo(REPO)
    made = repo.log[head(fake_github)]
    message = "Add or update the workflows ghbootstrap writes"
    repo.log[head(fake_github)] = replace(made, message=message)
    assert cli("oidc", R, "--open-pr", "--tag", "v*").code == 0
    assert 'tags: ["v**"]' in text(fake_github, BRANCH, BUILD)

    ours = repo.branch_files(BRANCH)[BUILD]
    sha = fake_github.push(REPO, BRANCH, {BUILD: ours + EDITED}, message, TOKEN_USER)
    refused = cli("oidc", R, "--open-pr")
    assert (refused.code, refused.err) == (1, refusal(sha, message, "octocat"))


def test_a_refusal_after_moving_a_stale_branch_moves_it_back(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("oidc", R, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    left = head(fake_github)
    opening = fail_github(fake_github, lambda r: r.method == "POST" and r.path.endswith("/pulls"))
    refused = cli("oidc", R, "--open-pr", "--tag", "v*")
    assert opening == ["POST /repos/Octo-Org/Hello-World/pulls"]
    assert (refused.code, refused.err) == (
        1,
        "error: GitHub refused to open a pull request in Octo-Org/Hello-World: POST "
        "/repos/Octo-Org/Hello-World/pulls returned 422 (injected failure); branch "
        f"{BRANCH} is moved back: run the command again\n",
    )
    assert head(fake_github) == left


# -- the title and description are shared ground: a reviewer may edit them ------------------

TITLE = "Build and push images to Amazon ECR (ghbootstrap)"
KEPT = (
    "title and description kept: changed by hand (they may not describe this run's scopes); "
    "--force replaces them"
)
HAND_TITLE = "WIP: build images (please hold)"
HAND_BODY = "Rita: we deploy from tags only; do not merge before the release.\r\n"
# What 0.2.0 wrote (its own code run for these setups): no marker.
OIDC_0_2_0 = (
    "ghbootstrap connected Octo-Org/Hello-World to Amazon ECR repository "
    "`octo-org/hello-world` in us-east-1. The workflow signs in with GitHub's OIDC token as "
    "the IAM role `arn:aws:iam::123456789012:role/ghbootstrap-octo-org-hello-world`, which "
    "only this repository's chosen branches, tags or environments may assume: no AWS key is "
    "stored anywhere. The Actions variables AWS_ROLE_ARN, AWS_REGION and ECR_REPOSITORY name "
    "them.\n\nMerging this pull request adds (or upgrades) "
    "`.github/workflows/ecr-build-push.yml`. From then on each run builds the image from the "
    "repository's Dockerfile and pushes it to ECR, tagged with the commit SHA. ghbootstrap "
    "upgrades the file on later runs as long as it is left unchanged."
)
KEYS_0_2_0 = (
    "ghbootstrap connected Octo-Org/Hello-World to Amazon ECR repository "
    "`octo-org/hello-world` in us-east-1 with the IAM user `ghbootstrap-octo-org-hello-world`, "
    "whose access key is sealed into the Actions secrets AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY of the repository.\n\nMerging this pull request adds (or upgrades) "
    "`.github/workflows/ecr-build-push.yml`: each run builds the image from the repository's "
    "Dockerfile and pushes it to ECR, tagged with the commit SHA. It also adds "
    "`.github/workflows/rotate-aws-keys.yml`, which runs `ghbootstrap rotate` on the schedule "
    "`17 4 * * 1` (UTC) to replace the key; it needs a secret GHBOOTSTRAP_GITHUB_TOKEN that "
    "may write this repository's Actions secrets. ghbootstrap upgrades these files on later "
    "runs as long as they are left unchanged."
)
MIGRATE_0_2_0 = (
    "ghbootstrap moves Octo-Org/Hello-World from the access key of IAM user "
    "`ghbootstrap-octo-org-hello-world` to the IAM role "
    "`arn:aws:iam::123456789012:role/ghbootstrap-octo-org-hello-world`, which GitHub's OIDC "
    "token assumes: no AWS key is stored anywhere.\n\nMerging this pull request replaces "
    "`.github/workflows/ecr-build-push.yml` with the OIDC workflow and deletes the key "
    "rotation workflow `.github/workflows/rotate-aws-keys.yml`. The key and its secrets keep "
    "working until `ghbootstrap migrate Octo-Org/Hello-World --finish` removes them, after "
    "this change has run."
)
MIGRATE_TITLE = "Build with the IAM role, no AWS key (ghbootstrap migrate)"


def opened(cli: Cli, fake: FakeGitHub, *command: str) -> Pull:
    """The pull request a first run opens (`oidc R --open-pr` unless `command` is given)."""
    assert cli(*(command or ("oidc", R, "--open-pr"))).code == 0
    [pull] = fake.repo(REPO).pulls
    return pull


def rewritten_for_tags(fake: FakeGitHub, before: int, pull: Pull) -> None:
    """The run committed the workflow for `--tag v*` and rewrote the title and description
    as ghbootstrap's own, marker and all."""
    assert writes(fake, before) == [
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml",
        "PATCH /repos/Octo-Org/Hello-World/pulls/1",
    ]
    assert pull.title == TITLE
    assert "`repo:Octo-Org/Hello-World:ref:refs/tags/v*`" in pull.body
    assert unedited(pull.title, pull.body)


def pull_request(out: str) -> dict[str, object]:
    """The pull request's entry in a --json report."""
    [found] = [r for r in json.loads(out)["resources"] if r["resource"] == "pull request"]
    return dict(found)


def test_the_description_ends_with_a_marker_that_only_its_own_title_and_text_match() -> None:
    body = signed(TITLE, "text")
    assert MARKER.search(body)
    assert body.startswith("text\n\n<!-- ghbootstrap: ")
    assert unedited(TITLE, body)
    assert not unedited(TITLE + "!", body)
    assert not unedited(TITLE, body.replace("text", "test"))
    assert not unedited(TITLE, body + "\n")
    assert not unedited(TITLE, body.replace("\n\n", "\r\n\r\n"))
    assert not unedited(TITLE, "text")


@pytest.mark.parametrize(
    ("title", "body"),
    [(TITLE, OIDC_0_2_0), (TITLE, KEYS_0_2_0), (MIGRATE_TITLE, MIGRATE_0_2_0)],
    ids=["oidc", "keys", "migrate"],
)
def test_a_description_0_2_0_wrote_is_recognised_only_unchanged(title: str, body: str) -> None:
    assert frozen_v0_2_0.wrote(title, body)
    assert not frozen_v0_2_0.wrote(title, body + "\n\nRita: hold until Monday.")
    assert not frozen_v0_2_0.wrote(title, body.replace("\n\n", "\n\nRita: hold.\n\n"))
    assert not frozen_v0_2_0.wrote(title, body.replace("ghbootstrap ", "the tool ", 1))
    assert not frozen_v0_2_0.wrote("WIP: " + title, body)


def test_a_description_edited_by_hand_is_kept_when_the_scopes_change(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """A reviewer edited the title and description: a re-run with other scopes commits
    the new workflow and keeps both (exit 0), saying so in the pull request's line; a dry
    run says the same and writes nothing."""
    pull = opened(cli, fake_github)
    pull.title, pull.body = HAND_TITLE, HAND_BODY
    before = len(fake_github.writes())
    line = f"  update     pull request          #1  ({BRANCH} -> main: commits {BUILD}; {KEPT})\n"
    dry = cli("oidc", R, "--open-pr", "--tag", "v*", "--dry-run")
    assert dry.code == 0, dry.err
    assert line in dry.out
    assert fake_github.writes()[before:] == []

    result = cli("oidc", R, "--open-pr", "--tag", "v*")
    assert result.code == 0, result.err
    assert line in result.out
    assert writes(fake_github, before) == [
        "PUT /repos/Octo-Org/Hello-World/contents/.github%2Fworkflows%2Fecr-build-push.yml"
    ]
    assert 'tags: ["v**"]' in text(fake_github, BRANCH, BUILD)
    assert (pull.title, pull.body) == (HAND_TITLE, HAND_BODY)

    again = len(fake_github.writes())
    same = cli("oidc", R, "--open-pr", "--tag", "v*", "--json")
    assert same.code == 0, same.err
    assert pull_request(same.out) == {
        "resource": "pull request",
        "name": "#1",
        "action": "no change",
        "detail": KEPT,
    }
    assert fake_github.writes()[again:] == []
    assert (pull.title, pull.body) == (HAND_TITLE, HAND_BODY)


def test_a_description_edited_by_hand_alone_is_kept_and_a_dry_run_says_so(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    pull = opened(cli, fake_github)
    pull.body = pull.body.replace("ghbootstrap connected", "We connected")
    edited = pull.body
    before = len(fake_github.writes())
    for dry_run in (("--dry-run",), ()):
        result = cli("oidc", R, "--open-pr", *dry_run)
        assert result.code == 0, result.err
        assert f"  no change  pull request          #1  ({KEPT})\n" in result.out
        assert "# title" not in result.out
    assert fake_github.writes()[before:] == []
    assert (pull.title, pull.body) == (TITLE, edited)


def test_force_replaces_a_description_edited_by_hand(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    pull = opened(cli, fake_github)
    title, body = pull.title, pull.body
    pull.title, pull.body = HAND_TITLE, HAND_BODY
    before = len(fake_github.writes())
    replaced = "title and description changed by hand: replaced (--force)"
    dry = cli("oidc", R, "--open-pr", "--force", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"  update     pull request          #1  ({replaced})\n" in dry.out
    assert f"\nupdate pull request #1:\n# title\n{title}\n# body\n{body}\n" in dry.out
    assert fake_github.writes()[before:] == []

    result = cli("oidc", R, "--open-pr", "--force", "--tag", "v*")
    assert result.code == 0, result.err
    assert f"commits {BUILD}; {replaced})\n" in result.out
    rewritten_for_tags(fake_github, before, pull)
    again = len(fake_github.writes())
    assert cli("oidc", R, "--open-pr", "--tag", "v*").code == 0  # ours again: nothing to do
    assert fake_github.writes()[again:] == []


def test_an_unedited_description_is_rewritten_alone_when_only_it_differs(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """Ours, unedited, but saying something else than this run would (another release's
    wording, here another region): only the title and body are written."""
    pull = opened(cli, fake_github)
    text_ = pull.body.split("\n\n<!--")[0].replace("us-east-1", "eu-west-1")
    pull.body = signed(pull.title, text_)
    before = len(fake_github.writes())
    result = cli("oidc", R, "--open-pr", "--json")
    assert result.code == 0, result.err
    assert pull_request(result.out)["detail"] == "a new title and description, for this setup"
    assert writes(fake_github, before) == ["PATCH /repos/Octo-Org/Hello-World/pulls/1"]
    assert "in us-east-1." in pull.body
    assert unedited(pull.title, pull.body)


def test_a_description_0_2_0_wrote_is_updated_when_the_scopes_change(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """0.2.0 opened the pull request (its commit message, its description, no marker)."""
    pull = opened(cli, fake_github)
    repo = fake_github.repo(REPO)
    repo.log[head(fake_github)] = replace(
        repo.log[head(fake_github)], message="Add or update the workflows ghbootstrap writes"
    )
    pull.title, pull.body = TITLE, OIDC_0_2_0
    before = len(fake_github.writes())
    result = cli("oidc", R, "--open-pr", "--tag", "v*")
    assert result.code == 0, result.err
    assert f"commits {BUILD}; a new title and description, for this setup)\n" in result.out
    rewritten_for_tags(fake_github, before, pull)


def test_a_keys_description_0_2_0_wrote_is_updated_and_an_edited_one_kept(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    pull = opened(cli, fake_github, "keys", R, "--rotation-schedule", "17 4 * * 1", "--open-pr")
    pull.body = KEYS_0_2_0
    result = cli("keys", R, "--rotation-schedule", "0 3 * * 1", "--open-pr")
    assert result.code == 0, result.err
    assert "a new title and description, for this setup" in result.out
    assert "`0 3 * * 1` (UTC)" in pull.body
    assert unedited(pull.title, pull.body)

    edited = KEYS_0_2_0 + "\n\nRita: the token is in the org secrets."  # 0.2.0's, edited
    pull.body = edited
    before = len(fake_github.writes())
    kept = cli("keys", R, "--rotation-schedule", "0 3 * * 2", "--open-pr")
    assert kept.code == 0, kept.err
    assert f"; {KEPT})\n" in kept.out
    assert [w for w in writes(fake_github, before) if "/pulls" in w] == []
    assert pull.body == edited
