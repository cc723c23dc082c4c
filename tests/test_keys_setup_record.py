"""The IAM user `keys` makes records what `keys` was last given (region, ECR repository,
policy, mutable tags), so `status`, `rotate` and `migrate` print commands that restore that
setup exactly even when they are run without the custom names."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import boto3

from tests.conftest import ACCOUNT, CliResult
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


def test_migrate_takes_the_names_from_the_record_and_its_finish_runs_as_printed(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli(*SETUP, "--no-workflow").code == 0
    before = aws_state()
    first = cli("migrate", TARGET, "--region", REGION, "--open-pr", "--json")
    assert first.code == 0, first.err
    finish = (
        "ghbootstrap migrate octo-org/hello-world --finish --region eu-west-1 "
        "--policy-name Push+Policy --ecr-repo team/img"
    )
    assert json.loads(first.out)["notes"][-1] == (
        f"then remove the key, its secrets and the user: {finish}"
    )
    assert aws_state() == before  # no second repository or policy
    role = "ghbootstrap-octo-org-hello-world"
    iam = boto3.client("iam", region_name=REGION)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"]
    assert fake_github.variables(REPO)["ECR_REPOSITORY"] == ECR

    fake_github.merge(REPO, 1)
    done = cli(*shlex.split(finish)[1:], "--yes")
    assert done.code == 0, done.err
    assert iam.list_users()["Users"] == []
    ecr = boto3.client("ecr", region_name=REGION)
    assert [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]] == [ECR]
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == [POLICY]
    assert cli("status", TARGET, "--region", REGION).code == 0


def test_migrate_refuses_a_name_that_contradicts_the_record(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli(*SETUP, "--no-workflow").code == 0
    before, writes = aws_state(), len(fake_github.writes())
    refused = cli("migrate", TARGET, "--region", REGION, "--ecr-repo", "other", "--no-workflow")
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == (
        f"error: --ecr-repo other is not what IAM user {USER} was set up with (team/img): "
        "leave --ecr-repo out, or pass --ecr-repo team/img\n"
    )
    assert aws_state() == before
    assert fake_github.writes()[writes:] == []
    assert boto3.client("iam", region_name=REGION).list_roles()["Roles"] == []


def test_a_rerun_writes_nothing_and_a_user_without_the_record_gets_it(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    setup = [*SETUP, "--mutable-tags", "--no-workflow"]
    assert cli(*setup).code == 0
    record = {k: v for k, v in user_tags().items() if k.startswith("ghbootstrap:setup")}
    assert record == {
        "ghbootstrap:setup": "region=eu-west-1+ecr=team/img+policy=Push@2BPolicy+ecr-named"
        "+mutable-tags"
    }
    again = cli(*setup, "--json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["changed"] is False

    # As an older release left it: no record. status goes by the names it is given.
    iam = boto3.client("iam", region_name=REGION)
    iam.untag_user(UserName=USER, TagKeys=["ghbootstrap:setup"])
    names = ["--ecr-repo", ECR, "--policy-name", POLICY]
    assert cli("status", TARGET, "--region", REGION, *names).code == 0
    dry = cli(*setup, "--dry-run", "--json")
    changes = [c for c in json.loads(dry.out)["resources"] if c["action"] != "no change"]
    assert [(c["resource"], c["name"], c["action"], c.get("detail")) for c in changes] == [
        ("IAM user", USER, "update", "records the region and names this setup was given")
    ]
    assert cli(*setup).code == 0
    assert {k: v for k, v in user_tags().items() if k.startswith("ghbootstrap:setup")} == record


def test_status_from_another_region_is_refused(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli(*SETUP, "--no-workflow").code == 0
    refused = cli("status", TARGET, "--region", "us-east-1")
    assert (refused.code, refused.out) == (2, "")
    assert refused.err == (
        f"error: IAM user {USER} was set up for region eu-west-1, not us-east-1: "
        "pass --region eu-west-1\n"
    )


def test_destroy_without_the_names_removes_the_custom_named_setup(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli(*SETUP, "--environment", "prod (eu)", "--no-workflow").code == 0
    done = cli("destroy", TARGET, "--region", REGION, "--yes")
    assert done.code == 0, done.err
    iam = boto3.client("iam", region_name=REGION)
    ecr = boto3.client("ecr", region_name=REGION)
    assert iam.list_users()["Users"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert ecr.describe_repositories()["repositories"] == []
    assert fake_github.variables(REPO, "prod (eu)") == {}
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID", "prod (eu)") is None


def test_the_worst_case_user_fits_iams_50_tags(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    """The longest names every record can hold: an environment of 255 four-byte
    characters (12 key-scope parts), a 256-character ECR name, a 128-character policy
    name of characters that escape to three each, and every flag."""
    environment = "\U0001f680" * 255
    ecr = "a" * 254 + "/b"
    policy = "+" * 128
    setup = ["keys", TARGET, "--region", REGION, "--ecr-repo", ecr, "--policy-name", policy]
    setup += ["--environment", environment, "--mutable-tags", "--no-workflow"]
    done = cli(*setup)
    assert done.code == 0, done.err
    tags = user_tags()
    assert len(tags) == 23  # 1 ownership, 19 key record (12 scope parts), 3 setup record
    assert len([k for k in tags if k.startswith("ghbootstrap:key-scope-")]) == 11
    assert len([k for k in tags if k.startswith("ghbootstrap:setup")]) == 3
    assert cli("rotate", TARGET, "--region", REGION, "--environment", environment).code == 0
    status = cli("status", TARGET, "--region", REGION, "--environment", environment)
    assert status.code == 0, status.out
