"""`status`: everything matches after a setup; drift is found, named, and repaired."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import TrustChangedByHand
from ghbootstrap.flows import keys, oidc, status
from ghbootstrap.github.api import GitHub
from ghbootstrap.report import Report, State
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, parse_repo
from ghbootstrap.workflow import KEYS_TEMPLATE, OIDC_TEMPLATE, Origin, build_file, origin_of
from tests.conftest import CliResult
from tests.fakes.github import FakeGitHub

REPO = "Octo-Org/Hello-World"
REF = parse_repo("octo-org/hello-world")
NAMES = Names.resolve(REF)
SCOPES = Scopes.parse(branches=["main"], environments=["prod"])


def setup_oidc(aws: Aws, gh: GitHub, force: bool = False) -> None:
    request = oidc.OidcRequest(ref=REF, names=NAMES, scopes=SCOPES, force=force)
    oidc.run(aws, gh, request, dry_run=False)


def setup_keys(aws: Aws, gh: GitHub) -> None:
    keys.run(aws, gh, keys.KeysRequest(ref=REF, names=NAMES), dry_run=False)


def check(aws: Aws, gh: GitHub) -> Report:
    return status.run(aws, gh, status.StatusRequest(ref=REF, names=NAMES))


def not_ok(report: Report) -> list[tuple[str, str, str]]:
    return [(c.resource, c.state.value, c.detail) for c in report.checks if c.state is not State.OK]


def test_everything_matches_after_oidc(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    setup_oidc(aws, gh)
    report = check(aws, gh)
    assert not_ok(report) == []
    kinds = [c.resource for c in report.checks]
    assert kinds.count("GitHub variable") == 6  # repository and the prod environment
    role = next(c for c in report.checks if c.resource == "IAM role")
    assert role.detail == (
        "admits repo:Octo-Org/Hello-World:environment:prod, "
        "repo:Octo-Org/Hello-World:ref:refs/heads/main, "
        "repo:Octo-Org@1001/Hello-World@1000:environment:prod, "
        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main; pinned to repository id 1000"
    )


def test_status_reads_only(aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: Any) -> None:
    setup_oidc(aws, gh)
    setup_keys(aws, gh)
    before, gh_before = len(aws_calls.names), len(fake_github.writes())
    check(aws, gh)
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes()[gh_before:] == []


def test_a_hand_edited_trust_is_reported_kept_and_replaced_only_with_force(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    setup_oidc(aws, gh)
    iam = aws.iam.raw
    document = iam.get_role(RoleName=NAMES.role)["Role"]["AssumeRolePolicyDocument"]
    document["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ].append("repo:Octo-Org/Other:ref:refs/heads/main")
    iam.update_assume_role_policy(RoleName=NAMES.role, PolicyDocument=json.dumps(document))

    report = check(aws, gh)
    detail = (
        "its trust policy was changed by hand: subjects of other repositories "
        "(repo:Octo-Org/Other:ref:refs/heads/main); ghbootstrap keeps it (`oidc` replaces "
        "it only with --force)"
    )
    assert not_ok(report) == [("IAM role", "drift", detail)]
    assert report.problems == [f"IAM role {NAMES.role}: {detail}"]  # no repair undoes it
    with pytest.raises(TrustChangedByHand):
        setup_oidc(aws, gh)
    setup_oidc(aws, gh, force=True)
    assert not_ok(check(aws, gh)) == []


def as_0_2_0_wrote_it(aws: Aws) -> None:
    """The role's trust as 0.2.0 wrote it and recorded it as its own: the name form alone,
    no repository_id pin."""
    from ghbootstrap.documents import fingerprint

    iam = aws.iam.raw
    document = iam.get_role(RoleName=NAMES.role)["Role"]["AssumeRolePolicyDocument"]
    condition = document["Statement"][0]["Condition"]["StringEquals"]
    del condition["token.actions.githubusercontent.com:repository_id"]
    key = "token.actions.githubusercontent.com:sub"
    condition[key] = [sub for sub in condition[key] if "@" not in sub]
    iam.update_assume_role_policy(RoleName=NAMES.role, PolicyDocument=json.dumps(document))
    iam.tag_role(
        RoleName=NAMES.role, Tags=[{"Key": "ghbootstrap:trust", "Value": fingerprint(document)}]
    )


def test_subjects_the_setup_gives_that_its_trust_refuses_are_drift(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    """A setup made before both forms, and the repository moved to immutable subjects:
    every job is refused until `oidc`, as the role records it, writes the subjects GitHub
    issues now. (A setup made now admits both forms: the switch is no drift.)"""
    setup_oidc(aws, gh)
    fake_github.repo(REPO).oidc = {"use_default": True, "use_immutable_subject": True}
    assert not_ok(check(aws, gh)) == []
    as_0_2_0_wrote_it(aws)
    immutable = "repo:Octo-Org@1001/Hello-World@1000"
    report = check(aws, gh)
    assert not_ok(report) == [
        (
            "IAM role",
            "drift",
            f"its trust does not admit {immutable}:ref:refs/heads/main, "
            f"{immutable}:environment:prod, the subjects GitHub sends for its setup now: the "
            "repository has switched to immutable subjects",
        )
    ]
    assert report.problems[0].endswith(
        "run `ghbootstrap oidc octo-org/hello-world --region us-east-1 --branch main "
        "--environment prod --no-workflow`"
    )
    setup_oidc(aws, gh)
    assert not_ok(check(aws, gh)) == []


def test_unsafe_trust_is_drift_even_with_a_matching_tag(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    from ghbootstrap.documents import fingerprint

    setup_oidc(aws, gh)
    iam = aws.iam.raw
    document = iam.get_role(RoleName=NAMES.role)["Role"]["AssumeRolePolicyDocument"]
    del document["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ]
    iam.update_assume_role_policy(RoleName=NAMES.role, PolicyDocument=json.dumps(document))
    iam.tag_role(
        RoleName=NAMES.role, Tags=[{"Key": "ghbootstrap:trust", "Value": fingerprint(document)}]
    )
    assert not_ok(check(aws, gh)) == [
        ("IAM role", "drift", "its trust is unsafe: it has no sub condition: any repository")
    ]


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda aws, fake: fake.repo(REPO).scope.variables.pop("AWS_ROLE_ARN"),
            [("GitHub variable", "missing", "not set")],
        ),
        (
            lambda aws, fake: (
                fake.repo(REPO)
                .environments["prod"]
                .scope.variables["AWS_REGION"]
                .update(value="eu-west-1")
            ),
            [("GitHub variable", "drift", "is 'eu-west-1', not 'us-east-1'")],
        ),
        (
            lambda aws, fake: aws.iam.raw.detach_role_policy(
                RoleName=NAMES.role, PolicyArn=f"arn:aws:iam::123456789012:policy/{NAMES.policy}"
            ),
            [("policy attachment", "missing", "the push policy is not attached")],
        ),
        (
            lambda aws, fake: aws.ecr.raw.delete_lifecycle_policy(
                repositoryName=NAMES.ecr_repository
            ),
            [("ECR repository", "drift", "its lifecycle policy was removed")],
        ),
    ],
    ids=["variable-deleted", "variable-changed", "policy-detached", "lifecycle-removed"],
)
def test_drift_is_found_and_repaired(
    aws: Aws,
    gh: GitHub,
    fake_github: FakeGitHub,
    break_it: Callable[[Aws, FakeGitHub], object],
    expected: list[tuple[str, str, str]],
) -> None:
    setup_oidc(aws, gh)
    break_it(aws, fake_github)
    assert not_ok(check(aws, gh)) == expected
    # a variable holding another value is taken over only with --force
    setup_oidc(aws, gh, force=expected[0][1] == "drift")
    assert not_ok(check(aws, gh)) == []


def test_a_widened_policy_is_drift(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    setup_oidc(aws, gh)
    arn = f"arn:aws:iam::123456789012:policy/{NAMES.policy}"
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
    }
    aws.iam.raw.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(wide), SetAsDefault=True
    )
    assert not_ok(check(aws, gh)) == [("IAM policy", "drift", "no longer exactly least privilege")]


def test_keys_path_status(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    setup_keys(aws, gh)
    report = check(aws, gh)
    assert not_ok(report) == []
    key = next(c for c in report.checks if c.resource == "access key")
    assert key.detail.startswith("active, 0 days old, ")
    assert key.detail.endswith("held by GitHub")
    fake_github.repo(REPO).scope.secrets.pop("AWS_SECRET_ACCESS_KEY")
    assert not_ok(check(aws, gh)) == [("GitHub secret", "missing", "not set")]
    assert (
        check(aws, gh)
        .problems[0]
        .endswith("run `ghbootstrap rotate octo-org/hello-world --region us-east-1`")
    )


def test_nothing_set_up(aws: Aws, gh: GitHub, fake_github: FakeGitHub) -> None:
    report = check(aws, gh)
    assert [c.resource for c in report.checks] == [
        "ECR repository",
        "IAM policy",
        "setup",
        "workflow",
    ]
    assert {c.state for c in report.checks[:3]} == {State.MISSING}


def test_status_cli_exit_codes(
    cli: Callable[..., CliResult], moto: None, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    assert cli("oidc", "octo-org/hello-world", "--no-workflow").code == 0
    clean = cli("status", "octo-org/hello-world")
    assert clean.code == 0
    assert clean.out.endswith("Everything matches.\n")
    fake_github.repo(REPO).scope.variables.pop("ECR_REPOSITORY")
    drifted = cli("status", "octo-org/hello-world", "--json")
    assert drifted.code == 3
    document = json.loads(drifted.out)
    assert document["problems"] == [
        f"GitHub variable ECR_REPOSITORY ({REPO}): not set: "
        "run `ghbootstrap oidc octo-org/hello-world --region us-east-1 --no-workflow`"
    ]


WORKFLOW = ".github/workflows/ecr-build-push.yml"
V010 = Path(__file__).parent / "data" / "v0.1.0"


def workflow_check(report: Report) -> tuple[str, str, str, str]:
    found = next(c for c in report.checks if c.resource == "workflow")
    return (found.name, found.state.value, found.detail, found.fix)


def test_the_workflow_on_the_default_branch_is_reported(
    aws: Aws,
    gh: GitHub,
    fake_github: FakeGitHub,
    cli: Callable[..., CliResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oidc.run(aws, gh, oidc.OidcRequest(ref=REF, names=NAMES), dry_run=False)
    label = f"{WORKFLOW} (main)"
    # missing: a setup made with --no-workflow has none; reported, not drift
    assert workflow_check(check(aws, gh)) == (
        label,
        "ok",
        "not on the default branch (none with --no-workflow)",
        "",
    )
    files = fake_github.repo(REPO).files
    current = build_file("", OIDC_TEMPLATE, REPO, Scopes(), "main").content
    files[WORKFLOW] = current.encode()
    assert workflow_check(check(aws, gh)) == (label, "ok", "current", "")
    # changed by hand: the owner's business, reported but not drift
    files[WORKFLOW] = current.replace("ubuntu-latest", "ubuntu-24.04").encode()
    assert workflow_check(check(aws, gh))[:3] == (
        label,
        "ok",
        "changed by hand, or not written by ghbootstrap",
    )
    # what 0.1.0 wrote for this setup: drift, and the command that upgrades it
    files[WORKFLOW] = (V010 / "oidc-default.yml").read_bytes()
    drifted = cli("status", "octo-org/hello-world")
    assert drifted.code == 3
    problem = drifted.out.splitlines()[-2]
    assert problem == (
        f"problem: workflow {label}: an earlier ghbootstrap rendering: upgrade it: "
        "run `ghbootstrap oidc octo-org/hello-world --region us-east-1 --open-pr`"
    )
    # run as printed, from a folder that is no checkout; merging the pull request repairs
    monkeypatch.chdir(tmp_path)
    printed = shlex.split(problem.split("run `")[1].rstrip("`"))
    assert printed[0] == "ghbootstrap"
    assert cli(*printed[1:]).code == 0
    fake_github.merge(REPO, 1)
    repaired = cli("status", "octo-org/hello-world")
    assert repaired.code == 0, repaired.out
    assert f"  ok       workflow           {label}  (current)\n" in repaired.out


@pytest.mark.parametrize(
    "scopes",
    [
        Scopes(),
        SCOPES,
        Scopes.parse(branches=["main", "release/*"], tags=["v*"], pull_requests=True),
        Scopes.parse(tags=["v1.*"], environments=['say "hi": a/b']),
        Scopes.parse(branches=["a+b", "feat/*/x", "x]!y", "c++"], tags=["*"]),
        Scopes.parse(branches=["été", "\U0001f600"], environments=['prod ${{ x }} "é"']),
    ],
)
@pytest.mark.parametrize("template", [OIDC_TEMPLATE, KEYS_TEMPLATE])
def test_status_sees_every_current_rendering_as_current(scopes: Scopes, template: str) -> None:
    """status reads the inputs back from the file: each rendering must judge current."""
    text = build_file("", template, REPO, scopes, "trunk").content
    assert origin_of(text, REPO, "trunk") is Origin.CURRENT
