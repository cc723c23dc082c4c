"""Never take what ghbootstrap cannot show it made; find and clean all of what it made.

Through the real entry point, on moto and the GitHub fake, checking state, not output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, AwsCalls, CliResult
from tests.fakes.github import FakeGitHub
from tests.images import push_image

REPO = "Octo-Org/Hello-World"


def ecr_tags(name: str) -> dict[str, str]:
    ecr = boto3.client("ecr", region_name=REGION)
    arn = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryArn"]
    return {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=arn)["tags"]}


def ecr_names() -> list[str]:
    ecr = boto3.client("ecr", region_name=REGION)
    return sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])


def role_tags(name: str) -> dict[str, str]:
    role = boto3.client("iam").get_role(RoleName=name)["Role"]
    return {t["Key"]: t["Value"] for t in role["Tags"]}


@pytest.fixture
def two_repos(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo("acme/my-app")
    fake_github.add_repo("acme/my--app")
    return fake_github


# -- issue 10, item 1: ECR repositories whose default names fold together --------------------


def test_a_repository_made_for_another_owner_repo_is_refused(
    cli: Callable[..., CliResult], moto: None, two_repos: FakeGitHub
) -> None:
    assert cli("oidc", "acme/my-app", "--no-workflow").code == 0
    writes = len(two_repos.writes())
    refused = cli("oidc", "acme/my--app", "--no-workflow")
    assert refused.code == 1
    assert refused.err == (
        "error: ECR repository acme/my-app was made by ghbootstrap for acme/my-app, not for "
        "acme/my--app: choose another name with --ecr-repo, or share it on purpose: pass "
        "--ecr-repo acme/my-app to the setups of both acme/my-app and acme/my--app\n"
    )
    assert two_repos.writes()[writes:] == []
    assert [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]] == [
        "ghbootstrap-acme-my-app"
    ]
    assert ecr_tags("acme/my-app") == {"ghbootstrap:repository": "acme/my-app"}


def test_sharing_on_purpose_is_recorded_and_destroy_keeps_it_for_the_other(
    cli: Callable[..., CliResult], moto: None, two_repos: FakeGitHub
) -> None:
    shared = ["--ecr-repo", "acme/shared", "--no-workflow"]
    assert cli("oidc", "acme/my-app", *shared).code == 0
    second = cli("oidc", "acme/my--app", *shared)
    assert second.code == 0, second.err
    assert ecr_tags("acme/shared") == {
        "ghbootstrap:repository": "acme/my-app",
        "ghbootstrap:named": "yes",
        "ghbootstrap:shared": "acme/my--app",
    }
    assert cli("oidc", "acme/my--app", *shared).out.endswith(
        "No changes: everything already matches.\n"
    )
    push_image(boto3.client("ecr", region_name=REGION), "acme/shared")

    gone = cli("destroy", "acme/my-app", "--yes", "--delete-images")
    assert gone.code == 0, gone.err
    assert ecr_names() == ["acme/shared"]
    images = boto3.client("ecr", region_name=REGION).list_images(repositoryName="acme/shared")
    assert len(images["imageIds"]) == 1
    assert ecr_tags("acme/shared") == {
        "ghbootstrap:repository": "acme/my--app",
        "ghbootstrap:named": "yes",
    }
    assert cli("status", "acme/my--app", "--ecr-repo", "acme/shared").code == 0

    assert cli("destroy", "acme/my--app", "--yes", "--delete-images").code == 0
    assert ecr_names() == []


def test_sharing_needs_both_to_name_it(
    cli: Callable[..., CliResult], moto: None, two_repos: FakeGitHub
) -> None:
    """The first made acme/my-app by default: naming it later alone is not enough."""
    assert cli("oidc", "acme/my-app", "--no-workflow").code == 0
    refused = cli("oidc", "acme/my--app", "--ecr-repo", "acme/my-app", "--no-workflow")
    assert refused.code == 1
    assert "--ecr-repo acme/my-app to the setups of both" in refused.err
    assert cli("oidc", "acme/my-app", "--ecr-repo", "acme/my-app", "--no-workflow").code == 0
    joined = cli("oidc", "acme/my--app", "--ecr-repo", "acme/my-app", "--no-workflow")
    assert joined.code == 0, joined.err


# -- issue 10, item 2: variables ghbootstrap cannot show it wrote ----------------------------


def test_variables_of_another_tool_are_not_overwritten_without_force(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub, aws_calls: AwsCalls
) -> None:
    scope = fake_github.repo(REPO).scope
    for name, value in (("AWS_ROLE_ARN", "arn:aws:iam::1:role/theirs"), ("AWS_REGION", "x")):
        scope.variables[name] = {
            "name": name,
            "value": value,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
    refused = cli("oidc", "octo-org/hello-world", "--no-workflow")
    assert refused.code == 1
    assert refused.err == (
        f"error: GitHub variable AWS_ROLE_ARN ({REPO}) holds 'arn:aws:iam::1:role/theirs', "
        "which ghbootstrap did not write: pass --force to overwrite it, or remove it "
        "yourself\n"
    )
    assert fake_github.writes() == []
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert fake_github.variables(REPO) == {
        "AWS_ROLE_ARN": "arn:aws:iam::1:role/theirs",
        "AWS_REGION": "x",
    }
    forced = cli("oidc", "octo-org/hello-world", "--no-workflow", "--force")
    assert forced.code == 0, forced.err
    assert fake_github.variables(REPO)["AWS_REGION"] == REGION


def test_destroy_never_deletes_a_variable_it_did_not_write(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert cli("oidc", "octo-org/hello-world", "--no-workflow").code == 0
    fake_github.repo(REPO).scope.variables["AWS_REGION"]["value"] = "theirs"
    assert cli("destroy", "octo-org/hello-world", "--yes").code == 0
    assert fake_github.variables(REPO) == {"AWS_REGION": "theirs"}


# -- issue 10, item 3: destroy finds a setup made with custom names ---------------------------


def test_destroy_finds_custom_names_by_their_tags(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    aws: Any,
    aws_calls: AwsCalls,
) -> None:
    custom = ["--policy-name", "Push+Policy", "--ecr-repo", "team/img", "--no-workflow"]
    assert cli("oidc", "octo-org/hello-world", "--role-name", "CI-Role.x", *custom).code == 0
    assert cli("keys", "octo-org/hello-world", "--user-name", "ci.user", *custom).code == 0
    iam = boto3.client("iam")
    iam.create_role(RoleName="unrelated", AssumeRolePolicyDocument="{}")
    iam.create_user(UserName="someone")
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="team/other")

    aws.session.events.register("before-call", aws_calls.record)
    gone = cli("destroy", "octo-org/hello-world", "--yes")
    assert gone.code == 0, gone.err
    assert "nothing made by ghbootstrap" not in gone.out
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["unrelated"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["someone"]
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert ecr_names() == ["team/other"]
    assert fake_github.variables(REPO) == {}
    assert fake_github.repo(REPO).scope.secrets == {}


def test_destroy_lists_the_account_only_when_a_name_finds_nothing(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub, monkeypatch: Any
) -> None:
    from ghbootstrap.aws import paging

    listed: list[str] = []
    real = paging.all_pages

    def spy(iam: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        listed.append(f"{operation} {params.get('Filter', '')}")
        return real(iam, operation, key, **params)

    monkeypatch.setattr(paging, "all_pages", spy)
    for module in ("role", "user"):
        monkeypatch.setattr(f"ghbootstrap.aws.{module}.all_pages", spy)
    assert cli("oidc", "octo-org/hello-world", "--no-workflow").code == 0
    listed.clear()
    assert cli("destroy", "octo-org/hello-world", "--yes").code == 0
    # the role is found by its default name; no user exists, so users are listed once
    assert [x for x in listed if x.startswith("get_account")] == [
        "get_account_authorization_details ['User']"
    ]


# -- issue 10, items 4 and 7: every environment, however named, however many ----------------


def test_every_environment_ever_configured_is_checked_and_cleaned(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    assert (
        cli("oidc", "octo-org/hello-world", "--environment", "staging", "--no-workflow").code == 0
    )
    assert (
        cli("oidc", "octo-org/hello-world", "--environment", "prod (eu)", "--no-workflow").code == 0
    )
    tags = role_tags("ghbootstrap-octo-org-hello-world")
    assert tags["ghbootstrap:environments"] == "staging+prod@20@28eu@29"
    assert "environment=prod@20@28eu@29" in tags["ghbootstrap:scopes"]

    fake_github.repo(REPO).environments["prod (eu)"].scope.variables.pop("AWS_REGION")
    status = cli("status", "octo-org/hello-world", "--json")
    assert status.code == 3
    assert json.loads(status.out)["problems"] == [
        f"GitHub variable AWS_REGION ({REPO} environment prod (eu)): not set: run "
        "`ghbootstrap oidc octo-org/hello-world --region us-east-1 --environment 'prod (eu)' "
        "--no-workflow`"
    ]
    assert (
        cli("oidc", "octo-org/hello-world", "--environment", "prod (eu)", "--no-workflow").code == 0
    )
    assert cli("destroy", "octo-org/hello-world", "--yes").code == 0
    for env in (None, "staging", "prod (eu)"):
        assert fake_github.variables(REPO, env) == {}, env


def test_sixteen_environments_spread_over_tags_and_rerun_cleanly(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    # On immutable subjects: both forms of sixteen such environments would not fit IAM's
    # quota on a trust policy (2,048 characters), and `oidc` would refuse them (exit 2).
    fake_github.repo(REPO).oidc = {"use_default": True, "use_immutable_subject": True}
    regions = boto3.session.Session().get_available_regions("ecr")[:16]
    environments = [f"prod-{region}" for region in regions]
    args = [a for env in environments for a in ("--environment", env)]
    done = cli("oidc", "octo-org/hello-world", *args, "--no-workflow")
    assert done.code == 0, done.err
    tags = role_tags("ghbootstrap-octo-org-hello-world")
    assert all(len(v) <= 256 for v in tags.values())
    assert "ghbootstrap:scopes:2" in tags
    assert "ghbootstrap:environments:2" in tags
    assert cli("oidc", "octo-org/hello-world", *args, "--no-workflow").out.endswith(
        "No changes: everything already matches.\n"
    )
    assert cli("status", "octo-org/hello-world").code == 0
    # fewer environments: the records shrink and the extra tags go
    assert (
        cli("oidc", "octo-org/hello-world", "--environment", environments[0], "--no-workflow").code
        == 0
    )
    shrunk = role_tags("ghbootstrap-octo-org-hello-world")
    assert "ghbootstrap:scopes:2" not in shrunk
    assert "ghbootstrap:environments:2" in shrunk  # all sixteen still hold variables
    assert cli("destroy", "octo-org/hello-world", "--yes").code == 0
    for env in environments:
        assert fake_github.variables(REPO, env) == {}, env


def test_records_too_long_for_iam_are_refused_before_any_write(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    args = [a for i in range(40) for a in ("--environment", f"{'e' * 200}-{i}")]
    refused = cli("oidc", "octo-org/hello-world", *args, "--no-workflow")
    assert refused.code == 2
    assert refused.err.startswith(
        "error: the names and scopes of this setup do not fit in the 20 IAM tags "
        "ghbootstrap keeps for them"
    )
    assert fake_github.writes() == []
    assert boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"] == []
    assert boto3.client("iam").list_policies(Scope="Local")["Policies"] == []


def test_keys_too_leaves_a_variable_of_another_tool_unless_forced(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    fake_github.repo(REPO).scope.variables["ECR_REPOSITORY"] = {
        "name": "ECR_REPOSITORY",
        "value": "theirs",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    refused = cli("keys", "octo-org/hello-world", "--no-workflow")
    assert refused.code == 1
    assert "GitHub variable ECR_REPOSITORY" in refused.err
    assert fake_github.writes() == []
    assert boto3.client("iam").list_users()["Users"] == []
    assert cli("keys", "octo-org/hello-world", "--no-workflow", "--force").code == 0
    assert fake_github.variables(REPO)["ECR_REPOSITORY"] == "octo-org/hello-world"


def test_an_environment_whose_variables_are_gone_drops_off_the_record(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub
) -> None:
    """The record holds what `destroy` must clean, so re-runs cannot grow it forever."""
    assert (
        cli("oidc", "octo-org/hello-world", "--environment", "staging", "--no-workflow").code == 0
    )
    assert cli("oidc", "octo-org/hello-world", "--environment", "prod", "--no-workflow").code == 0
    assert role_tags("ghbootstrap-octo-org-hello-world")["ghbootstrap:environments"] == (
        "staging+prod"
    )
    fake_github.repo(REPO).environments["staging"].scope.variables.clear()
    assert cli("oidc", "octo-org/hello-world", "--environment", "prod", "--no-workflow").code == 0
    assert role_tags("ghbootstrap-octo-org-hello-world")["ghbootstrap:environments"] == "prod"


@pytest.mark.parametrize("command", ["status", "destroy"])
def test_a_setup_is_read_and_removed_only_in_its_own_region(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub, command: str
) -> None:
    assert cli("oidc", "octo-org/hello-world", "--region", "eu-west-1", "--no-workflow").code == 0
    args = [command, "octo-org/hello-world", "--region", "us-east-1"]
    wrong = cli(*args, *(["--yes"] if command == "destroy" else []))
    assert wrong.code == 2
    assert wrong.err == (
        "error: IAM role ghbootstrap-octo-org-hello-world was set up for region eu-west-1, "
        "not us-east-1: pass --region eu-west-1\n"
    )
    assert [r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]] == [
        "ghbootstrap-octo-org-hello-world"
    ]
