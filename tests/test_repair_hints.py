"""Every repair command `status` prints runs as printed and restores the setup exactly.

The setup is made through the real entry point with a region, custom names and every kind
of scope; then things are broken, each printed command is run verbatim (shlex-split, the
same entry point, the same environment, from another folder), and the whole state is
compared with the state before: trust, tags, policy, ECR settings, every variable.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from ghbootstrap.trusteval import may_assume
from tests.conftest import ACCOUNT, CliResult
from tests.fakes.github import FakeGitHub

REPO = "Octo-Org/Hello-World"
REGION = "eu-west-1"  # not the environment's default (us-east-1): hints must say it
ROLE = "CI-Role.x"
POLICY = "Push+Policy"
ECR = "team/img"
SETUP = [
    "oidc",
    "octo-org/hello-world",
    "--region",
    REGION,
    "--role-name",
    ROLE,
    "--policy-name",
    POLICY,
    "--ecr-repo",
    ECR,
    "--branch",
    "main",
    "--branch",
    "release/*",
    "--tag",
    "v*",
    "--environment",
    "prod (eu)",
    "--environment",
    "staging",
    "--pull-requests",
    "--mutable-tags",
    "--no-workflow",
]
HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"
# Pinned by hand: the trust those options must give, whatever the code computes.
GOLDEN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "GitHubActionsExactSubjects",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:repository_id": "1000",
                    "token.actions.githubusercontent.com:sub": [
                        "repo:Octo-Org/Hello-World:environment:prod (eu)",
                        "repo:Octo-Org/Hello-World:environment:staging",
                        "repo:Octo-Org/Hello-World:pull_request",
                        "repo:Octo-Org/Hello-World:ref:refs/heads/main",
                        "repo:Octo-Org@1001/Hello-World@1000:environment:prod (eu)",
                        "repo:Octo-Org@1001/Hello-World@1000:environment:staging",
                        "repo:Octo-Org@1001/Hello-World@1000:pull_request",
                        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main",
                    ],
                }
            },
        },
        {
            "Sid": "GitHubActionsSubjectPatterns",
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:repository_id": "1000",
                },
                "StringLike": {
                    "token.actions.githubusercontent.com:sub": [
                        "repo:Octo-Org/Hello-World:ref:refs/heads/release/*",
                        "repo:Octo-Org/Hello-World:ref:refs/tags/v*",
                        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/release/*",
                        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/tags/v*",
                    ]
                },
            },
        },
    ],
}


def state(
    fake: FakeGitHub, environments: tuple[str | None, ...] = (None, "prod (eu)", "staging")
) -> dict[str, Any]:
    """Everything the setup consists of, as AWS and GitHub hold it."""
    iam = boto3.client("iam", region_name=REGION)
    ecr = boto3.client("ecr", region_name=REGION)
    role = iam.get_role(RoleName=ROLE)["Role"]
    policy_arn = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"
    policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    repository = ecr.describe_repositories(repositoryNames=[ECR])["repositories"][0]
    return {
        "trust": role["AssumeRolePolicyDocument"],
        "role tags": {t["Key"]: t["Value"] for t in role["Tags"]},
        "attached": [
            p["PolicyArn"]
            for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
        ],
        "policy": iam.get_policy_version(
            PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]["Document"],
        "ecr": (repository["imageTagMutability"], repository["imageScanningConfiguration"]),
        "providers": [
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        ],
        "lifecycle": ecr.get_lifecycle_policy(repositoryName=ECR)["lifecyclePolicyText"],
        "variables": {env: fake.variables(REPO, env) for env in environments},
    }


def break_provider(fake: FakeGitHub) -> None:
    """A trust changed by hand has no repair (tests/test_trust_ownership.py); one whose
    provider is gone has."""
    iam = boto3.client("iam", region_name=REGION)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)


def break_variables(fake: FakeGitHub) -> None:
    fake.repo(REPO).environments["prod (eu)"].scope.variables.pop("AWS_ROLE_ARN")
    fake.repo(REPO).environments["staging"].scope.variables["AWS_REGION"]["value"] = "x"


def break_aws(fake: FakeGitHub) -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.detach_role_policy(RoleName=ROLE, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}")
    boto3.client("ecr", region_name=REGION).delete_lifecycle_policy(repositoryName=ECR)


@pytest.mark.parametrize(
    "break_it", [break_provider, break_variables, break_aws], ids=["provider", "variables", "aws"]
)
def test_each_printed_repair_restores_the_setup_exactly(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    break_it: Callable[[FakeGitHub], None],
) -> None:
    done = cli(*SETUP)
    assert done.code == 0, done.err
    before = state(fake_github)
    assert before["trust"] == GOLDEN_TRUST
    assert before["ecr"][0] == "MUTABLE"
    assert before["variables"]["prod (eu)"] == {
        "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
        "AWS_REGION": REGION,
        "ECR_REPOSITORY": ECR,
    }
    assert cli("status", "octo-org/hello-world", "--region", REGION, "--role-name", ROLE).code == 0

    break_it(fake_github)
    status = cli(
        "status", "octo-org/hello-world", "--region", REGION, "--role-name", ROLE, "--json"
    )
    assert status.code == 3
    fixes = list(dict.fromkeys(c["fix"] for c in json.loads(status.out)["checks"] if c["fix"]))
    assert fixes, "a broken setup must come with a repair command"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # hints run from any folder and write no workflow there
    run_each(cli, fixes)
    assert list(elsewhere.iterdir()) == []
    assert state(fake_github) == before
    again = cli("status", "octo-org/hello-world", "--region", REGION, "--role-name", ROLE)
    assert again.code == 0, again.out


def test_the_hint_is_the_setup_command(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli(*SETUP).code == 0
    break_provider(fake_github)
    status = cli(
        "status", "octo-org/hello-world", "--region", REGION, "--role-name", ROLE, "--json"
    )
    [problem] = json.loads(status.out)["problems"]
    assert problem == (
        f"OIDC provider {PROVIDER}: the role trusts a provider that is gone: run "
        "`ghbootstrap oidc octo-org/hello-world --region eu-west-1 --role-name CI-Role.x "
        "--policy-name Push+Policy --ecr-repo team/img --branch main --branch 'release/*' "
        "--tag 'v*' --environment 'prod (eu)' --environment staging --pull-requests "
        "--mutable-tags --no-workflow`"
    )


def test_keys_hints_restore_the_keys_setup(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    names = ["--user-name", "ci.user", "--policy-name", POLICY, "--ecr-repo", ECR]
    setup = ["keys", "octo-org/hello-world", "--region", REGION, *names]
    assert cli(*setup, "--environment", "prod", "--no-workflow").code == 0
    fake_github.repo(REPO).environments["prod"].scope.variables.pop("ECR_REPOSITORY")
    status = cli("status", "octo-org/hello-world", "--region", REGION, *names, "--json")
    assert status.code == 3
    [problem] = json.loads(status.out)["problems"]
    assert problem.endswith(
        "run `ghbootstrap keys octo-org/hello-world --region eu-west-1 --user-name ci.user "
        "--policy-name Push+Policy --ecr-repo team/img --environment prod --no-workflow`"
    )
    fix = problem.split("run `")[1].rstrip("`")
    assert cli(*shlex.split(fix)[1:]).code == 0
    assert fake_github.variables(REPO, "prod") == {"AWS_REGION": REGION, "ECR_REPOSITORY": ECR}
    assert cli("status", "octo-org/hello-world", "--region", REGION, *names).code == 0


def test_a_role_made_before_the_record_gets_its_scopes_from_its_trust(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    """Upgrading: a role without `ghbootstrap:scopes` must not get a repair that narrows
    its trust to the default branch."""
    assert cli(*SETUP).code == 0
    iam = boto3.client("iam", region_name=REGION)
    old = [k for k in role_tag_keys(iam) if k.startswith("ghbootstrap:scopes")]
    iam.untag_role(RoleName=ROLE, TagKeys=old)
    fake_github.repo(REPO).scope.variables.pop("AWS_REGION")
    status = cli(
        "status", "octo-org/hello-world", "--region", REGION, "--role-name", ROLE,
        "--policy-name", POLICY, "--ecr-repo", ECR, "--json",
    )  # fmt: skip
    [problem] = json.loads(status.out)["problems"]
    fix = problem.split("run `")[1].rstrip("`")
    assert fix == (
        "ghbootstrap oidc octo-org/hello-world --region eu-west-1 --role-name CI-Role.x "
        "--policy-name Push+Policy --ecr-repo team/img --branch main --branch 'release/*' "
        "--tag 'v*' --environment 'prod (eu)' --environment staging --pull-requests "
        "--mutable-tags --no-workflow"
    )
    assert cli(*shlex.split(fix)[1:]).code == 0
    assert iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"] == GOLDEN_TRUST


def role_tag_keys(iam: Any) -> list[str]:
    return [t["Key"] for t in iam.list_role_tags(RoleName=ROLE)["Tags"]]


# -- status sees what breaks CI ---------------------------------------------------------------

NAMES = ["--region", REGION, "--role-name", ROLE, "--policy-name", POLICY, "--ecr-repo", ECR]
WORKFLOW = ".github/workflows/ecr-build-push.yml"
MAIN = "repo:Octo-Org/Hello-World:ref:refs/heads/main"


def rename_default_branch(fake: FakeGitHub, new: str) -> None:
    """As GitHub does: the branch moves, its commits and files with it."""
    repo = fake.repo(REPO)
    repo.branches[new] = repo.branches.pop(repo.default_branch)
    repo.default_branch = new


def repairs(cli: Callable[..., CliResult]) -> list[str]:
    status = cli("status", "octo-org/hello-world", *NAMES, "--json")
    assert status.code == 3, status.out
    return list(dict.fromkeys(c["fix"] for c in json.loads(status.out)["checks"] if c["fix"]))


def run_each(cli: Callable[..., CliResult], fixes: list[str]) -> None:
    """Each printed command, as printed, through the real entry point."""
    for fix in fixes:
        argv = shlex.split(fix)
        assert argv[0] == "ghbootstrap"
        ran = cli(*argv[1:])
        assert ran.code == 0, (fix, ran.err)


def admits(sub: str) -> bool:
    """A job of the repository (the fake's id, 1000) with this sub."""
    iam = boto3.client("iam", region_name=REGION)
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    claims = {"sub": sub, "aud": "sts.amazonaws.com", "repository_id": "1000"}
    return may_assume(trust, PROVIDER, HOST, claims)


def but_trust(found: dict[str, Any]) -> dict[str, Any]:
    """The state apart from the trust and its fingerprint."""
    tags = {k: v for k, v in found["role tags"].items() if k != "ghbootstrap:trust"}
    return {**found, "trust": None, "role tags": tags}


def test_a_renamed_default_branch_is_drift_for_a_setup_that_follows_it(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    rename_default_branch(fake_github, "trunk")
    assert cli("oidc", "octo-org/hello-world", *NAMES, "--mutable-tags", "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    before = state(fake_github, (None,))
    assert admits("repo:Octo-Org/Hello-World:ref:refs/heads/trunk")

    rename_default_branch(fake_github, "main")
    status = cli("status", "octo-org/hello-world", *NAMES)
    assert status.code == 3
    problems = [line for line in status.out.splitlines() if line.startswith("problem: ")]
    command = (
        "ghbootstrap oidc octo-org/hello-world --region eu-west-1 --role-name CI-Role.x "
        "--policy-name Push+Policy --ecr-repo team/img --mutable-tags"
    )
    assert problems == [
        f"problem: IAM role {ROLE}: the default branch is main now, and the trust admits "
        "repo:Octo-Org/Hello-World:ref:refs/heads/trunk, "
        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/trunk: a setup made without a "
        f"scope follows the default branch: run `{command} --no-workflow`",
        f"problem: workflow {WORKFLOW} (main): it runs for branch trunk, and the role admits "
        f"branch main: upgrade it: run `{command} --open-pr`",
    ]
    run_each(cli, repairs(cli))
    fake_github.merge(REPO, 2)

    assert admits(MAIN)
    assert not admits("repo:Octo-Org/Hello-World:ref:refs/heads/trunk")
    assert but_trust(state(fake_github, (None,))) == but_trust(before)
    assert b'branches: ["main"]' in fake_github.repo(REPO).files[WORKFLOW]
    again = cli("status", "octo-org/hello-world", *NAMES)
    assert again.code == 0, again.out


def test_a_branch_named_explicitly_is_no_drift_when_the_default_branch_moves(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    rename_default_branch(fake_github, "trunk")
    assert (
        cli("oidc", "octo-org/hello-world", *NAMES, "--branch", "trunk", "--no-workflow").code == 0
    )
    rename_default_branch(fake_github, "main")
    status = cli("status", "octo-org/hello-world", *NAMES)
    assert status.code == 0, status.out


def test_a_workflow_whose_triggers_the_role_outgrew_is_drift(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scope added by `explain`'s fix (--no-workflow): the role admits dev, and the
    workflow on the default branch still runs only for main."""
    monkeypatch.chdir(tmp_path)
    setup = ["oidc", "octo-org/hello-world", *NAMES, "--branch", "main", "--mutable-tags"]
    assert cli(*setup, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    explained = cli("explain", "octo-org/hello-world", *NAMES[2:4], "--branch", "dev", "--json")
    assert explained.code == 3
    run_each(cli, [json.loads(explained.out)["fix"]])
    before = state(fake_github, (None,))

    status = cli("status", "octo-org/hello-world", *NAMES)
    assert status.code == 3, status.out
    [problem] = [line for line in status.out.splitlines() if line.startswith("problem: ")]
    assert problem == (
        f"problem: workflow {WORKFLOW} (main): it runs for branch main, and the role admits "
        "branch dev, branch main: upgrade it: run `ghbootstrap oidc octo-org/hello-world "
        "--region eu-west-1 --role-name CI-Role.x --policy-name Push+Policy --ecr-repo "
        "team/img --branch dev --branch main --mutable-tags --open-pr`"
    )
    run_each(cli, repairs(cli))
    fake_github.merge(REPO, 2)

    assert state(fake_github, (None,)) == before
    assert b'branches: ["dev", "main"]' in fake_github.repo(REPO).files[WORKFLOW]
    again = cli("status", "octo-org/hello-world", *NAMES)
    assert again.code == 0, again.out
