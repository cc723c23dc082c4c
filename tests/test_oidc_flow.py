"""`oidc` end to end in-process: moto for AWS, the GitHub fake behind `responses`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from ghbootstrap.aws.session import Aws
from ghbootstrap.documents import lifecycle_policy, push_policy
from ghbootstrap.errors import ConflictError, UsageError
from ghbootstrap.flows import oidc
from ghbootstrap.flows.shared_steps import start
from ghbootstrap.github.api import GitHub
from ghbootstrap.plan import Action, Plan
from ghbootstrap.report import Report
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, parse_repo
from ghbootstrap.trusteval import may_assume
from tests.conftest import ACCOUNT, REGION, AwsCalls
from tests.fakes.github import FakeGitHub

REPO = "Octo-Org/Hello-World"
REF = parse_repo("octo-org/hello-world")  # typed in lower case; GitHub's case wins
NAMES = Names.resolve(REF)
ECR_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/octo-org/hello-world"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ghbootstrap-octo-org-hello-world"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ghbootstrap-ecr-push-octo-org-hello-world"
TAGS = [{"Key": "ghbootstrap:repository", "Value": "octo-org/hello-world"}]
HOST = "token.actions.githubusercontent.com"


def request(tmp_path: Path, **kwargs: Any) -> oidc.OidcRequest:
    kwargs.setdefault("workflow_path", tmp_path / ".github/workflows/ecr-build-push.yml")
    return oidc.OidcRequest(ref=REF, names=NAMES, **kwargs)


def run(aws: Aws, gh: GitHub, req: oidc.OidcRequest, dry_run: bool = False) -> Report:
    return oidc.run(aws, gh, req, dry_run=dry_run)


def actions(report: Report) -> dict[str, str]:
    return {f"{c.resource}: {c.name}": c.action.value for c in report.changes}


def trust_of(aws: Aws) -> dict[str, Any]:
    document: dict[str, Any] = aws.iam.raw.get_role(RoleName=NAMES.role)["Role"][
        "AssumeRolePolicyDocument"
    ]
    return document


def claims(sub: str, repository_id: str = "1000") -> dict[str, str]:
    """A job's token: its sub, the STS audience, and the repository's id (the fake's)."""
    return {"sub": sub, "aud": "sts.amazonaws.com", "repository_id": repository_id}


# Pinned by hand, not recomputed with the code under test: the trust `oidc` writes for the
# default branch, and its fingerprint (sha256 of the canonical JSON, first 32 hex digits).
# Pinned to the repository's id (1000 in the fake; its owner is 1001), and the default
# branch in both subject forms until GitHub moves the repository to immutable subjects.
GOLDEN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "GitHubActionsExactSubjects",
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::123456789012:oidc-provider/"
                "token.actions.githubusercontent.com"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:repository_id": "1000",
                    "token.actions.githubusercontent.com:sub": [
                        "repo:Octo-Org/Hello-World:ref:refs/heads/main",
                        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main",
                    ],
                }
            },
        }
    ],
}
GOLDEN_FINGERPRINT = "90e5336c094881815185050e8b443673"


def test_fresh_run_creates_exactly_the_resources(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    report = run(aws, gh, request(tmp_path))

    assert set(actions(report).values()) == {"create"}
    assert len(report.changes) == 10
    assert report.repository == REPO

    ecr = aws.ecr.raw
    repo = ecr.describe_repositories(repositoryNames=["octo-org/hello-world"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"] == TAGS
    lifecycle = ecr.get_lifecycle_policy(repositoryName="octo-org/hello-world")
    assert json.loads(lifecycle["lifecyclePolicyText"]) == lifecycle_policy()

    iam = aws.iam.raw
    policy = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]
    assert policy["Tags"] == TAGS
    version = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId=policy["DefaultVersionId"])
    assert version["PolicyVersion"]["Document"] == push_policy(ECR_ARN)

    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == []

    role = iam.get_role(RoleName=NAMES.role)["Role"]
    assert role["AssumeRolePolicyDocument"] == GOLDEN_TRUST
    assert {t["Key"]: t["Value"] for t in role["Tags"]} == {
        "ghbootstrap:repository": "octo-org/hello-world",
        "ghbootstrap:trust": GOLDEN_FINGERPRINT,
        "ghbootstrap:scopes": "region=us-east-1+ecr=octo-org/hello-world"
        "+policy=ghbootstrap-ecr-push-octo-org-hello-world",
        "ghbootstrap:environments": "",
    }
    attached = iam.list_attached_role_policies(RoleName=NAMES.role)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [POLICY_ARN]

    assert fake_github.variables(REPO) == {
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_REGION": REGION,
        "ECR_REPOSITORY": "octo-org/hello-world",
    }
    workflow = tmp_path / ".github/workflows/ecr-build-push.yml"
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in workflow.read_text()

    assert report.outputs["role_arn"] == ROLE_ARN
    assert report.outputs["ecr_uri"] == (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/octo-org/hello-world"
    )
    assert report.outputs["subjects"] == [
        "repo:Octo-Org/Hello-World:ref:refs/heads/main",
        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main",
    ]
    assert report.outputs["pinned_to"] == "repository id 1000 (Octo-Org/Hello-World)"
    assert report.notes == []


def test_the_written_trust_admits_only_the_default_branch_of_this_repository(
    aws: Aws, gh: GitHub, tmp_path: Path
) -> None:
    run(aws, gh, request(tmp_path))
    trust = trust_of(aws)
    assert may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/heads/main"))
    assert not may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/heads/dev"))
    assert not may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:pull_request"))
    assert not may_assume(
        trust, PROVIDER_ARN, HOST, claims("repo:Octo-Org/Other:ref:refs/heads/main")
    )


def test_second_run_makes_no_write_call_and_says_no_changes(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    req = request(tmp_path, scopes=Scopes.parse(branches=["main"], environments=["prod"]))
    run(aws, gh, req)
    workflow = tmp_path / ".github/workflows/ecr-build-push.yml"
    written_at = workflow.stat().st_mtime_ns
    aws_before, gh_before = len(aws_calls.names), len(fake_github.writes())

    again = run(aws, gh, req)

    assert aws_calls.writes_since(aws_before) == []
    assert len(aws_calls.names) > aws_before  # it did read
    assert fake_github.writes()[gh_before:] == []
    assert not again.changed
    assert set(actions(again).values()) == {"no change"}
    assert workflow.stat().st_mtime_ns == written_at


def test_dry_run_reads_only_and_writes_no_file(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    report = run(aws, gh, request(tmp_path), dry_run=True)

    assert aws_calls.writes == []
    assert fake_github.writes() == []
    assert not (tmp_path / ".github").exists()
    assert report.dry_run
    assert set(actions(report).values()) == {"create"}
    documents = {c.resource: c.document for c in report.changes if c.document is not None}
    assert documents["IAM policy"] == push_policy(ECR_ARN)
    assert documents["IAM role"]["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert "build-push:" in documents["workflow file"]


def test_new_scopes_update_the_trust_and_nothing_else(
    aws: Aws, gh: GitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    run(aws, gh, request(tmp_path, workflow_path=None))
    before = len(aws_calls.names)
    report = run(aws, gh, request(tmp_path, workflow_path=None, scopes=Scopes.parse(tags=["v*"])))
    changed = {k: v for k, v in actions(report).items() if v != "no change"}
    assert changed == {f"IAM role: {NAMES.role}": "update"}
    assert aws_calls.writes_since(before) == ["iam.UpdateAssumeRolePolicy", "iam.TagRole"]
    trust = trust_of(aws)
    assert may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/tags/v2.0"))
    assert not may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/heads/main"))


def test_a_drifted_policy_gets_a_new_version_and_old_ones_are_pruned(
    aws: Aws, gh: GitHub, tmp_path: Path
) -> None:
    run(aws, gh, request(tmp_path, workflow_path=None))
    iam = aws.iam.raw
    widened = push_policy(ECR_ARN)
    widened["Statement"][1]["Resource"] = "*"
    for _ in range(4):  # someone edits it by hand, four times: five versions in all
        iam.create_policy_version(
            PolicyArn=POLICY_ARN, PolicyDocument=json.dumps(widened), SetAsDefault=True
        )
    assert len(iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]) == 5

    report = run(aws, gh, request(tmp_path, workflow_path=None))

    assert actions(report)[f"IAM policy: {NAMES.policy}"] == "update"
    versions = iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]
    assert len(versions) == 5
    assert "v1" not in {v["VersionId"] for v in versions}  # the oldest non-default went
    default = next(v for v in versions if v["IsDefaultVersion"])
    document = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId=default["VersionId"])
    assert document["PolicyVersion"]["Document"] == push_policy(ECR_ARN)


def test_an_existing_provider_is_reused_and_left_alone(
    aws: Aws, gh: GitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    aws.iam.raw.create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com", "other"]
    )
    before = len(aws_calls.names)
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    assert actions(report)[f"OIDC provider: {HOST}"] == "no change"
    assert "iam.CreateOpenIDConnectProvider" not in aws_calls.names[before:]
    provider = aws.iam.raw.get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert provider["ClientIDList"] == ["sts.amazonaws.com", "other"]
    assert provider.get("Tags", []) == []


def test_a_provider_without_our_audience_gets_it_added(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub
) -> None:
    """moto lacks AddClientIDToOpenIDConnectProvider: botocore's Stubber checks the call."""
    setup = start(aws, gh, REF, NAMES)
    plan = Plan()
    with Stubber(aws.iam.raw) as stub:
        stub.add_response(
            "get_open_id_connect_provider",
            {"Url": HOST, "ClientIDList": ["api://other"], "ThumbprintList": [], "Tags": []},
            {"OpenIDConnectProviderArn": PROVIDER_ARN},
        )
        stub.add_response(
            "add_client_id_to_open_id_connect_provider",
            {},
            {"OpenIDConnectProviderArn": PROVIDER_ARN, "ClientID": "sts.amazonaws.com"},
        )
        assert oidc.plan_provider(plan, setup, f"https://{HOST}") == (PROVIDER_ARN, False)
        assert plan.steps[0].change.action is Action.UPDATE
        plan.execute(dry_run=False)
        stub.assert_no_pending_responses()


def test_a_role_the_tool_did_not_make_is_refused_before_any_write(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    aws.iam.raw.create_role(RoleName=NAMES.role, AssumeRolePolicyDocument="{}")
    before = len(aws_calls.names)
    with pytest.raises(ConflictError, match="exists and was not made by ghbootstrap"):
        run(aws, gh, request(tmp_path))
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes() == []
    assert not (tmp_path / ".github").exists()


def test_an_existing_repository_not_ours_is_reused_untouched(
    aws: Aws, gh: GitHub, tmp_path: Path
) -> None:
    aws.ecr.raw.create_repository(repositoryName="octo-org/hello-world")
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    assert "ECR lifecycle policy: octo-org/hello-world" not in actions(report)
    repo = aws.ecr.raw.describe_repositories(repositoryNames=["octo-org/hello-world"])
    assert repo["repositories"][0]["imageTagMutability"] == "MUTABLE"


def test_mutable_tags_opt_out_and_back(aws: Aws, gh: GitHub, tmp_path: Path) -> None:
    run(aws, gh, request(tmp_path, workflow_path=None, immutable_tags=False))
    describe = aws.ecr.raw.describe_repositories
    assert describe()["repositories"][0]["imageTagMutability"] == "MUTABLE"
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    assert actions(report)["ECR repository: octo-org/hello-world"] == "update"
    assert describe()["repositories"][0]["imageTagMutability"] == "IMMUTABLE"


def test_environments_are_created_and_hold_the_variables_too(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.repo(REPO).environments.clear()
    report = run(
        aws,
        gh,
        request(tmp_path, workflow_path=None, scopes=Scopes.parse(environments=["prod", "a:b"])),
    )
    assert actions(report)["GitHub environment: prod"] == "create"
    expected = {
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_REGION": REGION,
        "ECR_REPOSITORY": "octo-org/hello-world",
    }
    assert fake_github.variables(REPO) == expected
    assert fake_github.variables(REPO, "prod") == expected
    assert fake_github.variables(REPO, "a:b") == expected
    trust = trust_of(aws)
    assert may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:environment:a%3Ab"))
    assert not may_assume(trust, PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/heads/main"))


def test_a_variable_holding_another_value_is_refused_then_forced(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, aws_calls: AwsCalls
) -> None:
    run(aws, gh, request(tmp_path, workflow_path=None))
    fake_github.repo(REPO).scope.variables["AWS_REGION"]["value"] = "eu-west-1"
    before, gh_before = len(aws_calls.names), len(fake_github.writes())
    with pytest.raises(ConflictError) as refused:
        run(aws, gh, request(tmp_path, workflow_path=None))
    assert str(refused.value) == (
        f"GitHub variable AWS_REGION ({REPO}) holds 'eu-west-1', which ghbootstrap did not "
        "write: pass --force to overwrite it, or remove it yourself"
    )
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes()[gh_before:] == []
    report = run(aws, gh, request(tmp_path, workflow_path=None, force=True))
    assert actions(report)[f"GitHub variable: AWS_REGION ({REPO})"] == "update"
    assert fake_github.variables(REPO)["AWS_REGION"] == REGION


@pytest.mark.parametrize("reports_prefix", [True, False], ids=["prefix", "no-prefix"])
def test_immutable_subjects_are_used_when_github_says_so(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, reports_prefix: bool
) -> None:
    repo = fake_github.repo(REPO)
    repo.oidc = {"use_default": True, "use_immutable_subject": True}
    repo.reports_prefix = reports_prefix
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    sub = f"repo:Octo-Org@{repo.owner_id}/Hello-World@{repo.id}:ref:refs/heads/main"
    assert report.outputs["subjects"] == [sub]
    assert may_assume(trust_of(aws), PROVIDER_ARN, HOST, claims(sub))


@pytest.mark.parametrize("reports_prefix", [True, False], ids=["prefix", "no-prefix"])
def test_the_organizations_setting_holds_where_the_repository_has_none(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path, reports_prefix: bool
) -> None:
    """Older servers report no prefix: the organization's setting is read (one more GET)."""
    repo = fake_github.repo(REPO)
    repo.reports_prefix = reports_prefix
    fake_github.orgs["octo-org"] = {"use_immutable_subject": True}
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    assert report.outputs["subjects"] == [
        f"repo:Octo-Org@{repo.owner_id}/Hello-World@{repo.id}:ref:refs/heads/main"
    ]
    org_reads = [r.path for r, _ in fake_github.requests if r.path.startswith("/orgs/")]
    assert org_reads == (
        [] if reports_prefix else ["/orgs/Octo-Org/actions/oidc/customization/sub"]
    )


def test_an_organization_the_token_may_not_read_keeps_both_forms(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    repo = fake_github.repo(REPO)
    repo.reports_prefix = False
    fake_github.orgs["octo-org"] = {"use_immutable_subject": True}
    token = fake_github.tokens[fake_github.token]
    token.permissions = token.permissions - {"organization_administration"}
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    immutable = f"repo:Octo-Org@{repo.owner_id}/Hello-World@{repo.id}:ref:refs/heads/main"
    assert report.outputs["subjects"] == [f"repo:{REPO}:ref:refs/heads/main", immutable]
    assert may_assume(trust_of(aws), PROVIDER_ARN, HOST, claims(immutable))


def pre_pin(aws: Aws) -> dict[str, Any]:
    """Make the role's trust what 0.1.0 and 0.2.0 wrote (the name form, no pin), recorded
    as ghbootstrap's own (its fingerprint), as those releases left it."""
    trust = trust_of(aws)
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    del condition[f"{HOST}:repository_id"]
    condition[f"{HOST}:sub"] = [f"repo:{REPO}:ref:refs/heads/main"]
    iam = aws.iam.raw
    iam.update_assume_role_policy(RoleName=NAMES.role, PolicyDocument=json.dumps(trust))
    iam.tag_role(
        RoleName=NAMES.role,
        Tags=[{"Key": "ghbootstrap:trust", "Value": "e73c99bcb4cb8c758088a6433232544a"}],
    )
    return trust


def test_a_setup_made_before_the_pin_gets_it_on_its_next_run(
    aws: Aws, gh: GitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    run(aws, gh, request(tmp_path, workflow_path=None))
    pre_pin(aws)
    report = run(aws, gh, request(tmp_path, workflow_path=None))
    role = next(c for c in report.changes if c.resource == "IAM role")
    assert (role.action, role.detail) == (
        Action.UPDATE,
        "trust policy differs: pins it to repository id 1000; admits the immutable subject "
        "form too, until the repository switches",
    )
    assert trust_of(aws) == GOLDEN_TRUST
    before = len(aws_calls.names)
    again = run(aws, gh, request(tmp_path, workflow_path=None))
    assert not again.changed
    assert aws_calls.writes_since(before) == []


def test_a_re_created_repository_is_not_handed_the_role(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    """Deleted and made again under the same name: a new id. The trust stays pinned to the
    old one until someone who checked the owner passes --force."""
    run(aws, gh, request(tmp_path, workflow_path=None))
    del fake_github.repos[REPO.lower()]
    new = fake_github.add_repo(REPO)
    before, gh_before = len(aws_calls.names), len(fake_github.writes())
    with pytest.raises(ConflictError) as refused:
        run(aws, gh, request(tmp_path, workflow_path=None))
    assert str(refused.value) == (
        f"IAM role {NAMES.role} trusts repository id 1000, and {REPO} is repository id "
        f"{new.id}: this is another repository with the same name (the one the role was made "
        f"for was deleted and re-created, or transferred): check who owns {REPO} now; only "
        "if the role is meant for it, run this command again with --force"
    )
    assert aws_calls.writes_since(before) == []
    assert fake_github.writes()[gh_before:] == []
    assert not may_assume(
        trust_of(aws), PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/heads/main", str(new.id))
    )
    run(aws, gh, request(tmp_path, workflow_path=None, force=True))
    assert may_assume(
        trust_of(aws), PROVIDER_ARN, HOST, claims(f"repo:{REPO}:ref:refs/heads/main", str(new.id))
    )


PLATFORM = "octo-org/platform/.github/workflows/build.yml@refs/heads/main"


def test_job_workflows_are_required_recorded_and_reported(
    aws: Aws, gh: GitHub, tmp_path: Path
) -> None:
    report = run(aws, gh, request(tmp_path, workflow_path=None, job_workflows=(PLATFORM,)))
    assert report.outputs["job_workflows"] == [PLATFORM]
    trust = trust_of(aws)
    main = claims(f"repo:{REPO}:ref:refs/heads/main")
    assert may_assume(trust, PROVIDER_ARN, HOST, {**main, "job_workflow_ref": PLATFORM})
    own = f"{REPO}/.github/workflows/ecr-build-push.yml@refs/heads/main"
    assert not may_assume(trust, PROVIDER_ARN, HOST, {**main, "job_workflow_ref": own})
    assert not may_assume(trust, PROVIDER_ARN, HOST, main)
    tags = aws.iam.raw.list_role_tags(RoleName=NAMES.role)["Tags"]
    record = next(t["Value"] for t in tags if t["Key"] == "ghbootstrap:scopes")
    assert record.endswith(
        "+job-workflow=octo-org/platform/.github/workflows/build.yml@40refs/heads/main"
    )
    unlimited = run(aws, gh, request(tmp_path, workflow_path=None))
    role = next(c for c in unlimited.changes if c.resource == "IAM role")
    assert role.detail == "trust policy differs: no longer limits the workflows jobs run"


def test_another_issuer_gets_no_pin_and_says_so(aws: Aws, gh: GitHub, tmp_path: Path) -> None:
    issuer = "https://github.example.com/_services/token"
    report = run(aws, gh, request(tmp_path, workflow_path=None, issuer=issuer))
    assert report.outputs["subjects"] == [f"repo:{REPO}:ref:refs/heads/main"]
    assert "pinned_to" not in report.outputs
    assert report.notes == [
        "the trust is not pinned to the repository's id: AWS STS is not known to test "
        f"GitHub's repository_id claim for the issuer {issuer} (only for "
        "https://token.actions.githubusercontent.com), and a condition on a claim STS does "
        "not test would refuse every job"
    ]
    assert "repository_id" not in json.dumps(trust_of(aws))


def test_a_trust_over_iams_quota_stops_before_any_write(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    scopes = Scopes.parse(branches=[f"feature-{n:03d}" for n in range(16)])
    with pytest.raises(UsageError) as refused:
        run(aws, gh, request(tmp_path, workflow_path=None, scopes=scopes))
    assert refused.value.exit_code == 2
    assert "over IAM's quota on a role's trust policy (2,048 characters" in str(refused.value)
    assert aws_calls.writes == []
    assert fake_github.writes() == []


def test_a_template_that_does_not_pin_the_repository_stops_before_writes(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    fake_github.repo(REPO).oidc = {
        "use_default": False,
        "include_claim_keys": ["repository_owner", "context"],
    }
    with pytest.raises(ConflictError, match="do not name the repository"):
        run(aws, gh, request(tmp_path))
    assert aws_calls.writes == []
    assert fake_github.writes() == []


def test_a_different_workflow_file_stops_the_run_before_any_write(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, aws_calls: AwsCalls, tmp_path: Path
) -> None:
    path = tmp_path / "mine.yml"
    path.write_text("name: mine\n")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        run(aws, gh, request(tmp_path, workflow_path=path))
    assert aws_calls.writes == []
    assert fake_github.writes() == []
    assert path.read_text() == "name: mine\n"


def test_a_workflow_0_1_0_wrote_is_upgraded_without_force(
    aws: Aws, gh: GitHub, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    path = tmp_path / ".github/workflows/ecr-build-push.yml"
    path.parent.mkdir(parents=True)
    path.write_text((Path(__file__).parent / "data/v0.1.0/oidc-default.yml").read_text())
    report = run(aws, gh, request(tmp_path))
    assert actions(report)[f"workflow file: {path}"] == "update"
    text = path.read_text()
    assert "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1" in text
    assert text.splitlines()[-1].startswith("# ghbootstrap-digest: sha256:")
    again = run(aws, gh, request(tmp_path))
    assert actions(again)[f"workflow file: {path}"] == "no change"
