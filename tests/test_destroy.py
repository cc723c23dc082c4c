"""`destroy`: removes what the tool made for one repository, beside things it did not make."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import GhbError
from ghbootstrap.flows import destroy, keys, oidc
from ghbootstrap.github.api import GitHub
from ghbootstrap.plan import Change
from ghbootstrap.report import Report
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, parse_repo
from tests.checkouts import git_checkout
from tests.conftest import ACCOUNT, CliResult
from tests.fakes.github import FakeGitHub
from tests.images import push_image

REPO = "Octo-Org/Hello-World"
REF = parse_repo("octo-org/hello-world")
NAMES = Names.resolve(REF)
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def set_up(aws: Aws, gh: GitHub) -> None:
    scopes = Scopes.parse(environments=["prod"])
    oidc.run(aws, gh, oidc.OidcRequest(ref=REF, names=NAMES, scopes=scopes), dry_run=False)
    keys.run(
        aws,
        gh,
        keys.KeysRequest(ref=REF, names=NAMES, rotation_schedule="0 4 * * 1"),
        dry_run=False,
    )


def tear_down(aws: Aws, gh: GitHub, *, dry_run: bool = False, **kwargs: Any) -> Report:
    request = destroy.DestroyRequest(ref=REF, names=NAMES, **kwargs)
    return destroy.run(aws, gh, request, dry_run=dry_run, confirm=lambda changes: True)


def unrelated(aws: Aws, fake: FakeGitHub) -> None:
    """Things ghbootstrap did not make, which destroy must not touch."""
    iam = aws.iam.raw
    other_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:sub": "repo:o/x:pull_request"
                    }
                },
            }
        ],
    }
    iam.create_role(RoleName="team-deploy", AssumeRolePolicyDocument=json.dumps(other_trust))
    iam.create_user(UserName="someone")
    aws.ecr.raw.create_repository(repositoryName="team/other")
    fake.repo(REPO).scope.variables["OTHER"] = {
        "name": "OTHER",
        "value": "x",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def test_teardown_beside_unrelated_roles(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    set_up(aws, gh)
    unrelated(aws, fake_github)
    report = tear_down(aws, gh)

    iam = aws.iam.raw
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["team-deploy"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["someone"]
    assert iam.list_policies(Scope="Local")["Policies"] == []
    repos = aws.ecr.raw.describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in repos] == ["team/other"]
    # the provider stays: another role trusts it
    assert [
        p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    ] == [PROVIDER]
    kept = {c.name: c.detail for c in report.changes if c.action.value == "no change"}
    assert kept == {"token.actions.githubusercontent.com": "kept: 1 other role(s) trust it"}
    github = fake_github.repo(REPO)
    assert fake_github.variables(REPO) == {"OTHER": "x"}
    assert github.scope.secrets == {}
    assert fake_github.variables(REPO, "prod") == {}


def test_the_provider_goes_when_nothing_else_trusts_it(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    set_up(aws, gh)
    tear_down(aws, gh)
    assert aws.iam.raw.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_a_provider_ghbootstrap_did_not_make_stays(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    aws.iam.raw.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"]
    )
    set_up(aws, gh)
    report = tear_down(aws, gh)
    assert len(aws.iam.raw.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    assert any(c.detail == "not made by ghbootstrap: kept" for c in report.changes)


def test_a_repository_with_images_is_kept_unless_asked(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    set_up(aws, gh)
    push_image(aws.ecr.raw, NAMES.ecr_repository)
    report = tear_down(aws, gh)
    kept = next(c for c in report.changes if c.resource == "ECR repository")
    assert (kept.action.value, kept.detail) == (
        "no change",
        "kept: it holds images; pass --delete-images to delete them too",
    )
    assert aws.ecr.raw.describe_repositories()["repositories"]
    tear_down(aws, gh, delete_images=True)
    assert aws.ecr.raw.describe_repositories()["repositories"] == []


def test_a_variable_someone_changed_is_left(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    set_up(aws, gh)
    fake_github.repo(REPO).scope.variables["ECR_REPOSITORY"]["value"] = "theirs"
    tear_down(aws, gh)
    assert fake_github.variables(REPO) == {"ECR_REPOSITORY": "theirs"}


def test_dry_run_and_refusal_delete_nothing(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: Any
) -> None:
    set_up(aws, gh)
    before, gh_before = len(aws_calls.names), len(fake_github.writes())
    plan = tear_down(aws, gh, dry_run=True)
    assert {c.action.value for c in plan.changes} == {"delete"}
    asked: list[list[Change]] = []

    def no(changes: list[Change]) -> bool:
        asked.append(changes)
        return False

    request = destroy.DestroyRequest(ref=REF, names=NAMES)
    with pytest.raises(GhbError, match="nothing was deleted"):
        destroy.run(aws, gh, request, dry_run=False, confirm=no)
    assert len(asked[0]) == len(plan.changes)
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes()[gh_before:] == []


@pytest.mark.parametrize("environment", ["ops@DE", "a+b"])
def test_the_one_environment_a_0_1_0_role_names_is_cleaned(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, environment: str
) -> None:
    """0.1.0 recorded a role's environments as they are, beside no scopes record: destroy
    stopped on `ops@DE` (UnicodeDecodeError) and took `a+b` for environments a and b."""
    scopes = Scopes.parse(environments=[environment])
    oidc.run(aws, gh, oidc.OidcRequest(ref=REF, names=NAMES, scopes=scopes), dry_run=False)
    iam = aws.iam.raw
    iam.untag_role(RoleName=NAMES.role, TagKeys=["ghbootstrap:scopes"])
    made_by_0_1_0 = [{"Key": "ghbootstrap:environments", "Value": environment}]
    iam.tag_role(RoleName=NAMES.role, Tags=made_by_0_1_0)
    assert fake_github.variables(REPO, environment) == {
        "AWS_REGION": "us-east-1",
        "AWS_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/{NAMES.role}",
        "ECR_REPOSITORY": NAMES.ecr_repository,
    }
    tear_down(aws, gh)
    assert fake_github.variables(REPO, environment) == {}
    assert fake_github.variables(REPO) == {}
    assert iam.list_roles()["Roles"] == []


def test_a_second_destroy_finds_nothing(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    set_up(aws, gh)
    tear_down(aws, gh)
    again = tear_down(aws, gh)
    assert again.changes == []
    assert again.notes[0] == "nothing made by ghbootstrap for octo-org/hello-world was found"


def test_destroy_cli_needs_yes_without_a_terminal(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(git_checkout(tmp_path, "Octo-Org/Hello-World"))
    assert cli("oidc", "octo-org/hello-world").code == 0
    refused = cli("destroy", "octo-org/hello-world")
    assert refused.code == 2
    assert refused.err == (
        "error: destroy asks for confirmation, and no terminal is attached: pass --yes to "
        "delete without asking, or --dry-run to see what would go\n"
    )
    done = cli("destroy", "octo-org/hello-world", "--yes")
    assert done.code == 0, done.err
    assert done.out.endswith("Done: 8 deleted.\n")
    assert cli("status", "octo-org/hello-world").code == 3


def test_a_key_ghbootstrap_did_not_record_stops_destroy(
    cli: Callable[..., CliResult],
    aws: Aws,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reproduced on main: a second key someone made on the user was deleted with it (as
    `active`, among ghbootstrap's own); `keys` and `rotate` refuse to touch such a key."""
    monkeypatch.chdir(git_checkout(tmp_path, REPO))
    assert cli("keys", "octo-org/hello-world").code == 0
    user = NAMES.user
    stranger = aws.iam.raw.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    github_before = fake_github.writes()
    refused = cli("destroy", "octo-org/hello-world", "--yes")
    assert refused.code == 1
    assert refused.err == (
        f"error: IAM user {user} has access key {stranger}, which ghbootstrap did not record "
        "as the key GitHub holds; someone else may use it: if nothing uses it, delete it: "
        f"aws iam delete-access-key --user-name {user} --access-key-id {stranger}\n"
    )
    assert fake_github.writes() == github_before
    keys = aws.iam.raw.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert stranger in [k["AccessKeyId"] for k in keys]
    assert len(keys) == 2
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID") is not None
