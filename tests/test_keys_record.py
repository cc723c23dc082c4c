"""The IAM user `keys` makes records what `keys` was last given (region, ECR repository,
policy, mutable tags), so `status`, `rotate` and `migrate` print commands that restore that
setup exactly even when they are run without the custom names."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import boto3

from tests.conftest import CliResult
from tests.fakes.github import FakeGitHub

REPO = "Octo-Org/Hello-World"
TARGET = "octo-org/hello-world"
REGION = "eu-west-1"  # not the environment's default (us-east-1)
ECR = "team/img"
POLICY = "Push+Policy"
USER = "ghbootstrap-octo-org-hello-world"  # the default user name
SETUP = ["keys", TARGET, "--region", REGION, "--ecr-repo", ECR, "--policy-name", POLICY]


def aws_state() -> dict[str, Any]:
    """Every ECR repository and customer managed policy, and the user's attachments."""
    iam = boto3.client("iam", region_name=REGION)
    ecr = boto3.client("ecr", region_name=REGION)
    return {
        "repositories": sorted(
            (r["repositoryName"], r["imageTagMutability"])
            for r in ecr.describe_repositories()["repositories"]
        ),
        "policies": sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "attached": sorted(
            p["PolicyName"]
            for p in iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"]
        ),
        "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
    }


def user_tags() -> dict[str, str]:
    iam = boto3.client("iam", region_name=REGION)
    return {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]}


def fixes_of(status: CliResult) -> list[str]:
    checks = json.loads(status.out)["checks"]
    return list(dict.fromkeys(c["fix"] for c in checks if c["fix"]))


def test_status_without_the_names_repairs_the_recorded_setup(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli(*SETUP, "--mutable-tags", "--no-workflow").code == 0
    before = aws_state()
    assert before["repositories"] == [(ECR, "MUTABLE")]
    assert before["policies"] == [POLICY]
    boto3.client("ecr", region_name=REGION).delete_lifecycle_policy(repositoryName=ECR)
    fake_github.repo(REPO).scope.variables.pop("ECR_REPOSITORY")

    status = cli("status", TARGET, "--region", REGION, "--json")
    assert status.code == 3, status.err
    assert fixes_of(status) == [
        "ghbootstrap keys octo-org/hello-world --region eu-west-1 --policy-name Push+Policy "
        "--ecr-repo team/img --mutable-tags --no-workflow"
    ]
    [fix] = fixes_of(status)
    assert cli(*shlex.split(fix)[1:]).code == 0
    assert aws_state() == before
    assert fake_github.variables(REPO) == {"AWS_REGION": REGION, "ECR_REPOSITORY": ECR}
    assert cli("status", TARGET, "--region", REGION).code == 0


def test_rotate_refusing_foreign_secrets_prints_the_keys_command_that_takes_them_over(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    env = ["--environment", "prod (eu)"]
    assert cli(*SETUP, *env, "--mutable-tags", "--no-workflow").code == 0
    before = aws_state()
    fake_github.put_secret(REPO, "AWS_ACCESS_KEY_ID", "AKIAOTHERTOOL", "prod (eu)")
    fake_github.put_secret(REPO, "AWS_SECRET_ACCESS_KEY", "other-tools-secret", "prod (eu)")

    refused = cli("rotate", TARGET, "--region", REGION, *env)
    assert (refused.code, refused.out) == (1, "")
    command = (
        "ghbootstrap keys octo-org/hello-world --region eu-west-1 --policy-name Push+Policy "
        "--ecr-repo team/img --environment 'prod (eu)' --mutable-tags --no-workflow --force"
    )
    assert refused.err == (
        f"error: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in {REPO} environment prod (eu) "
        "exist and ghbootstrap cannot show it wrote them last; another tool may use them: "
        f"if ghbootstrap should take over what is there, run `{command}`\n"
    )
    taken = cli(*shlex.split(command)[1:])
    assert taken.code == 0, taken.err
    assert aws_state() == before  # the same repository, policy and user; nothing else
    held = user_tags()["ghbootstrap:key-held"]
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID", "prod (eu)") == held
    assert cli("status", TARGET, "--region", REGION, *env).code == 0
    assert cli("rotate", TARGET, "--region", REGION, *env).code == 0  # ghbootstrap's now
