"""migrate: from the access-key setup to OIDC in two phases, CI never without a working key."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from ghbootstrap.aws.session import Aws
from ghbootstrap.secret import Secret
from tests.conftest import ACCOUNT, REGION, AwsCalls, CliResult, moto_secret
from tests.fakes.github import FakeGitHub

Cli = Callable[..., CliResult]
REPO = "Octo-Org/Hello-World"
IMMUTABLE = "Octo-Org@1001/Hello-World@1000"  # the fake's ids: both forms until the switch
TYPED = "octo-org/hello-world"
USER = "ghbootstrap-octo-org-hello-world"
ROLE = "ghbootstrap-octo-org-hello-world"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ghbootstrap-ecr-push-octo-org-hello-world"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
BUILD = ".github/workflows/ecr-build-push.yml"
ROTATE = ".github/workflows/rotate-aws-keys.yml"
FINISH = f"ghbootstrap migrate {TYPED} --finish --region {REGION}"


def iam() -> object:
    return boto3.client("iam", region_name=REGION)


def github_key_works(fake: FakeGitHub, aws: Aws, environment: str | None = None) -> str:
    """GitHub holds an active key of the user and its secret, and it authenticates the
    way the key protocol checks it (STS as that key). Returns the key id."""
    key_id = fake.secret(REPO, "AWS_ACCESS_KEY_ID", environment)
    secret = fake.secret(REPO, "AWS_SECRET_ACCESS_KEY", environment)
    assert key_id is not None
    assert secret is not None
    assert secret == moto_secret(USER, key_id)
    keys = aws.iam.raw.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in keys}[key_id] == "Active"
    arn = aws.sts_as(key_id, Secret(secret)).get_caller_identity()["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:user/{USER}"
    return key_id


def files(fake: FakeGitHub, branch: str = "main") -> dict[str, str]:
    return {p: d.decode() for p, d in fake.repo(REPO).branch_files(branch).items()}


def test_the_whole_path_with_pull_requests(
    cli: Cli, aws: Aws, aws_calls: AwsCalls, fake_github: FakeGitHub, here: Path
) -> None:
    keys = cli("keys", TYPED, "--rotation-schedule", "17 4 * * 1", "--open-pr")
    assert keys.code == 0, keys.err
    fake_github.merge(REPO, 1)
    fake_github.put_secret(REPO, "GHBOOTSTRAP_GITHUB_TOKEN", "github_pat_rotation")
    held = github_key_works(fake_github, aws)

    # Phase one: adds the role and the variable, opens one pull request, removes nothing.
    first = cli("migrate", TYPED, "--open-pr")
    assert first.code == 0, first.err
    assert github_key_works(fake_github, aws) == held
    role = aws.iam.raw.get_role(RoleName=ROLE)["Role"]
    condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"] == [
        f"repo:{REPO}:ref:refs/heads/main",
        f"repo:{IMMUTABLE}:ref:refs/heads/main",
    ]
    assert condition["token.actions.githubusercontent.com:repository_id"] == "1000"
    attached = aws.iam.raw.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [POLICY_ARN]
    assert len(aws.iam.raw.list_policies(Scope="Local")["Policies"]) == 1  # no second policy
    user_policies = aws.iam.raw.list_attached_user_policies(UserName=USER)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in user_policies] == [POLICY_ARN]
    assert fake_github.variables(REPO)["AWS_ROLE_ARN"] == ROLE_ARN
    [_, pull] = fake_github.repo(REPO).pulls
    assert (pull.number, pull.head, pull.state) == (2, "ghbootstrap/ecr-build-push", "open")
    on_branch = files(fake_github, pull.head)
    assert ROTATE not in on_branch
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in on_branch[BUILD]
    assert "secrets.AWS_ACCESS_KEY_ID" in files(fake_github)[BUILD]  # main: unchanged
    assert f"note: next: merge pull request https://github.com/{REPO}/pull/2 into main" in (
        first.out
    )
    assert f"note: then remove the key, its secrets and the user: {FINISH}\n" in first.out

    # A re-run writes nothing.
    aws_mark, github_mark = len(aws_calls.names), len(fake_github.writes())
    again = cli("migrate", TYPED, "--open-pr")
    assert again.code == 0, again.err
    assert aws_calls.writes_since(aws_mark) == []
    assert fake_github.writes()[github_mark:] == []

    # Too early: the default branch still builds with the key.
    early = cli("migrate", TYPED, "--finish", "--yes")
    assert early.code == 1
    assert early.err == (
        f"error: nothing was removed: {BUILD} on main does not read vars.AWS_ROLE_ARN; "
        f"{BUILD} on main reads the key's secrets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); "
        f"{ROTATE} on main reads the key's secrets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): "
        "ghbootstrap removes the key only once the default branch runs on the role alone: "
        "complete phase one (`ghbootstrap migrate` without --finish), merge its change and "
        "let it run, change each workflow named so it no longer reads the key's secrets, then "
        "run this again\n"
    )
    assert aws_calls.writes_since(aws_mark) == []
    assert fake_github.writes()[github_mark:] == []
    assert github_key_works(fake_github, aws) == held

    fake_github.merge(REPO, 2)
    assert ROTATE not in files(fake_github)
    assert github_key_works(fake_github, aws) == held

    # Phase two, as printed.
    printed = shlex.split(FINISH)[1:]
    done = cli(*printed, "--yes")
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID") is None
    assert fake_github.secret(REPO, "AWS_SECRET_ACCESS_KEY") is None
    assert aws.iam.raw.get_role(RoleName=ROLE)["Role"]["Arn"] == ROLE_ARN
    assert aws.ecr.raw.describe_repositories()["repositories"][0]["repositoryName"] == TYPED
    assert fake_github.variables(REPO) == {
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_REGION": REGION,
        "ECR_REPOSITORY": TYPED,
    }
    assert (
        f"note: the secret GHBOOTSTRAP_GITHUB_TOKEN ({REPO}) is no longer needed: delete it, "
        "and revoke the token it holds" in done.out
    )
    assert "github_pat_rotation" not in done.out + done.err

    # Run again when done: nothing to do.
    mark = len(aws_calls.names)
    rerun = cli(*printed, "--yes", "--json")
    assert rerun.code == 0, rerun.err
    assert json.loads(rerun.out)["notes"] == [
        f"nothing to do: no access-key setup of {TYPED} is left"
    ]
    assert aws_calls.writes_since(mark) == []

    status = cli("status", TYPED)
    assert status.code == 0, status.out + status.err
    audit = cli("audit", "--json")
    assert audit.code == 0, audit.out + audit.err
    assert json.loads(audit.out) == {"findings": []}


def test_without_a_key_setup_nothing_is_written(
    cli: Cli, aws: Aws, aws_calls: AwsCalls, fake_github: FakeGitHub, here: Path
) -> None:
    result = cli("migrate", TYPED, "--open-pr")
    assert result.code == 1
    assert result.err == (
        f"error: no access-key setup ghbootstrap made for {TYPED} was found (IAM user {USER} "
        "with its tag and key record): nothing to migrate: set up OIDC directly with "
        f"`ghbootstrap oidc {TYPED} --region {REGION} --open-pr`, or pass the --user-name "
        "the setup used\n"
    )
    assert aws_calls.writes == []
    assert fake_github.writes() == []


def test_without_a_key_setup_the_oidc_command_printed_makes_the_setup_asked_for(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """It printed `ghbootstrap oidc OWNER/REPO` whatever migrate was given: run as
    printed, outside the checkout it stopped (no workflow choice), and in it, it made the
    default role in the default region for the default branch."""
    asked = ["--region", "eu-west-1", "--role-name", "ci-role", "--branch", "dev"]
    result = cli("migrate", TYPED, *asked, "--no-workflow")
    assert result.code == 1
    command = result.err.split("directly with `")[1].split("`")[0]
    assert command == (
        f"ghbootstrap oidc {TYPED} --region eu-west-1 --role-name ci-role --branch dev "
        "--no-workflow"
    )
    assert cli(*shlex.split(command)[1:]).code == 0
    role = boto3.client("iam").get_role(RoleName="ci-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ] == [
        "repo:Octo-Org/Hello-World:ref:refs/heads/dev",
        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/dev",
    ]
    assert cli("status", TYPED, "--region", "eu-west-1", "--role-name", "ci-role").code == 0


def test_local_files_in_an_environment(
    cli: Cli,
    aws: Aws,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    build, rotate = tmp_path / "build.yml", tmp_path / "rotate.yml"
    made = cli(
        "keys",
        TYPED,
        "--environment",
        "prod",
        "--rotation-schedule",
        "0 4 * * 1",
        "--workflow-path",
        str(build),
        "--rotation-workflow-path",
        str(tmp_path / "rotate-aws-keys.yml"),
    )
    assert made.code == 0, made.err
    rotate = tmp_path / "rotate-aws-keys.yml"
    held = github_key_works(fake_github, aws, "prod")

    result = cli("migrate", TYPED, "--workflow-path", str(build))
    assert result.code == 0, result.err
    assert not rotate.exists()
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in build.read_text()
    assert 'environment: "prod"' in build.read_text()
    trust = aws.iam.raw.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert sorted(
        trust["Statement"][0]["Condition"]["StringEquals"][
            "token.actions.githubusercontent.com:sub"
        ]
    ) == [  # what the key served: not main outside prod
        f"repo:{REPO}:environment:prod",
        f"repo:{IMMUTABLE}:environment:prod",
    ]
    assert fake_github.variables(REPO, "prod")["AWS_ROLE_ARN"] == ROLE_ARN
    assert github_key_works(fake_github, aws, "prod") == held
    assert f"note: next: commit {build}" in result.out


def test_a_changed_rotation_workflow_is_refused_without_force(
    cli: Cli, aws: Aws, aws_calls: AwsCalls, fake_github: FakeGitHub, here: Path
) -> None:
    build, rotate = here / "build.yml", here / "rotate-aws-keys.yml"
    made = cli("keys", TYPED, "--rotation-schedule", "0 4 * * 1", "--workflow-path", str(build))
    assert made.code == 0, made.err
    rotate.write_text(rotate.read_text() + "# my change\n")
    mark = len(aws_calls.names)

    refused = cli("migrate", TYPED, "--workflow-path", str(build))
    assert refused.code == 2
    assert refused.err.startswith(f"error: refusing to delete {rotate}: it differs")
    assert aws_calls.writes_since(mark) == []
    assert rotate.exists()

    forced = cli("migrate", TYPED, "--workflow-path", str(build), "--force")
    assert forced.code == 0, forced.err
    assert not rotate.exists()


def test_finish_asks_first(
    cli: Cli,
    aws: Aws,
    aws_calls: AwsCalls,
    fake_github: FakeGitHub,
    here: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("keys", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    assert cli("migrate", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 2)
    mark = len(aws_calls.names)

    no_terminal = cli("migrate", TYPED, "--finish")
    assert no_terminal.code == 2
    assert no_terminal.err == (
        "error: migrate --finish asks for confirmation, and no terminal is attached: pass "
        "--yes to delete without asking, or --dry-run to see what would go\n"
    )
    dry = cli("migrate", TYPED, "--finish", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"IAM user {USER}" in dry.out.replace("  ", " ") or USER in dry.out
    assert aws_calls.writes_since(mark) == []

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "n")
    declined = cli("migrate", TYPED, "--finish")
    assert declined.code == 1
    assert "ghbootstrap migrate --finish will delete:" in declined.err
    assert declined.err.endswith(
        "error: nothing was removed: run again and answer y, or pass --yes\n"
    )
    assert aws_calls.writes_since(mark) == []
    github_key_works(fake_github, aws)


def test_secrets_someone_else_wrote_are_kept(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("keys", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    assert cli("migrate", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 2)
    fake_github.put_secret(REPO, "AWS_ACCESS_KEY_ID", "AKIASOMEONEELSE")

    done = cli("migrate", TYPED, "--finish", "--yes")
    assert done.code == 0, done.err
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID") == "AKIASOMEONEELSE"
    assert fake_github.secret(REPO, "AWS_SECRET_ACCESS_KEY") is None
    assert aws.iam.raw.list_users()["Users"] == []


V010 = Path(__file__).parent / "data" / "v0.1.0"


def test_files_ghbootstrap_0_1_0_wrote_are_replaced_and_deleted(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    """Unmodified files of an earlier release carry no digest: recognised by rendering."""
    made = cli("keys", TYPED, "--environment", "prod", "--no-workflow")
    assert made.code == 0, made.err
    build, rotate = here / "ecr-build-push.yml", here / "rotate-aws-keys.yml"
    rotate.write_text((V010 / "rotate-environment.yml").read_text())

    result = cli("migrate", TYPED, "--workflow-path", str(build), "--json")
    assert result.code == 0, result.err
    changes = {
        c["name"]: (c["action"], c.get("detail")) for c in json.loads(result.out)["resources"]
    }
    assert changes[str(rotate)] == ("delete", "ghbootstrap's own: no longer needed")
    assert changes[str(build)][0] == "create"
    assert not rotate.exists()


def test_the_0_1_0_keys_build_workflow_is_upgraded_to_oidc(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    made = cli("keys", TYPED, "--no-workflow")
    assert made.code == 0, made.err
    build = here / "ecr-build-push.yml"
    build.write_text((V010 / "keys-default.yml").read_text())

    result = cli("migrate", TYPED, "--workflow-path", str(build), "--json")
    assert result.code == 0, result.err
    changes = {
        c["name"]: (c["action"], c.get("detail")) for c in json.loads(result.out)["resources"]
    }
    assert changes[str(build)] == ("update", "an earlier ghbootstrap rendering: upgraded")
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in build.read_text()


def test_a_dry_run_writes_nothing_and_says_what_comes_next(
    cli: Cli, aws: Aws, aws_calls: AwsCalls, fake_github: FakeGitHub, here: Path
) -> None:
    assert cli("keys", TYPED, "--rotation-schedule", "17 4 * * 1", "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    mark, github_mark = len(aws_calls.names), len(fake_github.writes())

    dry = cli("migrate", TYPED, "--open-pr", "--dry-run")
    assert dry.code == 0, dry.err
    assert aws_calls.writes_since(mark) == []
    assert fake_github.writes()[github_mark:] == []
    assert "note: next: merge the pull request this opens into main\n" in dry.out
    assert f"note: then remove the key, its secrets and the user: {FINISH}\n" in dry.out


def test_the_job_workflows_the_role_admits_are_kept(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    """A role someone limited to jobs running one workflow (`oidc --job-workflow`) before
    migrating keeps that limit: migrate has no such option, and dropping it would admit
    every workflow of the repository."""
    own = f"{REPO}/{BUILD}@refs/heads/main"  # the build workflow migrate writes, on main
    assert cli("keys", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    assert cli("oidc", TYPED, "--job-workflow", own, "--no-workflow").code == 0

    first = cli("migrate", TYPED, "--open-pr", "--json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["outputs"]["job_workflows"] == [own]
    trust = aws.iam.raw.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:job_workflow_ref"] == [own]

    fake_github.merge(REPO, 2)
    done = cli("migrate", TYPED, "--finish", "--yes")  # its job runs the admitted workflow
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []
    status = cli("status", TYPED)
    assert status.code == 0, status.out
    assert f"only jobs running {own}" in status.out
