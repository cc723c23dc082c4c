"""`explain` on the emulators: one table of jobs, each cause of a refusal, the verdict and
fix checked against hand-written expectations, and every printed fix run as printed."""

from __future__ import annotations

import base64
import io
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, CliResult
from tests.fakes.github import FakeGitHub

Cli = Callable[..., CliResult]
REPO = "octo-org/hello-world"
ISSUER = "https://token.actions.githubusercontent.com"
ENTERPRISE_ISSUER = "https://token.actions.githubusercontent.com/octo-enterprise"
SUB = "repo:Octo-Org/Hello-World"
ROLE = "ghbootstrap-octo-org-hello-world"
IDS = {"repository": "Octo-Org/Hello-World", "repository_id": "1000"}  # the fake's
PLATFORM = "octo-org/platform/.github/workflows/build.yml@refs/heads/main"
OWN_WORKFLOW = "Octo-Org/Hello-World/.github/workflows/ecr-build-push.yml@refs/heads/main"


def jwt(claims: dict[str, Any], signature: bytes = b"not-a-real-signature-0123456789") -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
    return f"{header}.{part(json.dumps(claims).encode())}.{part(signature)}"


def claims_of(
    sub: str, aud: str = "sts.amazonaws.com", iss: str = ISSUER, repository_id: str = "1000"
) -> str:
    """A job's token as GitHub issues it: its repository by name and by id (the fake's)."""
    return json.dumps(
        {
            "sub": sub,
            "aud": aud,
            "iss": iss,
            "repository": "Octo-Org/Hello-World",
            "repository_id": repository_id,
        }
    )


# -- arranging what changed since the setup ---------------------------------------------------

Arrange = Callable[[FakeGitHub], None]


def _nothing(fake: FakeGitHub) -> None:
    return None


def _owner_case_renamed(fake: FakeGitHub) -> None:
    fake.repo(REPO).owner = "octo-org"


def _repository_renamed(fake: FakeGitHub) -> None:
    """GitHub keeps answering for the old name (it redirects) after a rename."""
    repo = fake.repo(REPO)
    repo.name = "Greeter"
    fake.repos["octo-org/greeter"] = repo


def _immutable_subjects(fake: FakeGitHub) -> None:
    fake.repo(REPO).oidc = {"use_default": True, "use_immutable_subject": True}


def _hand_written_colon(fake: FakeGitHub) -> None:
    """A hand-made trust names environment `a:b` without GitHub's %3A (no release wrote
    that: 0.1.0 encoded ':' too)."""
    iam = boto3.client("iam", region_name=REGION)
    trust = json.loads(json.dumps(iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]))
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    condition["token.actions.githubusercontent.com:sub"] = [f"{SUB}:environment:a:b"]
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))


@dataclass(frozen=True)
class Case:
    id: str
    setup: tuple[str, ...]  # options of the `oidc` run that made the role
    job: tuple[str, ...]  # options of `explain` describing the job
    code: int
    sub: str
    reason: str  # a hand-written part of the reason
    fix: str | None  # the exact command expected, or None
    claims: str | None = None  # stdin for `--claims -`
    workflow_fix: str | None = None
    arrange: Arrange = field(default=_nothing)
    # jobs the role admits before (as `explain` options, the role's issuer), and after
    before: tuple[tuple[str, ...], ...] = ((),)
    # the job as admitted after the fix, when the fix is on the workflow's side
    after: tuple[str, ...] | None = None


def _fix(*scopes: str, repo: str = REPO) -> str:
    return shlex.join(["ghbootstrap", "oidc", repo, "--region", REGION, *scopes, "--no-workflow"])


CASES = [
    Case(
        "default-branch-admitted",
        (),
        (),
        0,
        f"{SUB}:ref:refs/heads/main",
        "statement GitHubActionsExactSubjects of the trust admits it",
        None,
    ),
    Case(
        "environment-takes-precedence",
        (),
        ("--environment", "prod"),
        3,
        f"{SUB}:environment:prod",
        "the job runs in environment prod, so its sub names the environment "
        "(environment:prod), not its branch or tag: an environment takes precedence",
        _fix("--branch", "main", "--environment", "prod"),
    ),
    Case(
        "environment-on-a-branch-takes-precedence",
        ("--branch", "main", "--branch", "release/*"),
        ("--environment", "prod", "--branch", "release/1"),
        3,
        f"{SUB}:environment:prod",
        "an environment takes precedence, and the trust admits no environment",
        _fix("--branch", "main", "--branch", "release/*", "--environment", "prod"),
        before=((), ("--branch", "release/1")),
    ),
    Case(
        "pull-request",
        (),
        ("--pull-request",),
        3,
        f"{SUB}:pull_request",
        "a pull request job's sub ends in pull_request, not in its branch",
        _fix("--branch", "main", "--pull-requests"),
    ),
    Case(
        "tag-not-branch",
        (),
        ("--tag", "main"),
        3,
        f"{SUB}:ref:refs/tags/main",
        "the job runs for tag main (ref:refs/tags/main); the trust admits branch main, "
        "not tag main",
        _fix("--branch", "main", "--tag", "main"),
    ),
    Case(
        "tag-pattern",
        ("--tag", "v*"),
        ("--tag", "release-1"),
        3,
        f"{SUB}:ref:refs/tags/release-1",
        "the trust admits no tag release-1",
        _fix("--tag", "release-1", "--tag", "v*"),  # scopes are sorted sets
        before=(("--tag", "v1.2.0"),),
    ),
    Case(
        "other-branch",
        ("--environment", "prod", "--branch", "main"),
        ("--branch", "dev"),
        3,
        f"{SUB}:ref:refs/heads/dev",
        "the trust admits no branch dev",
        _fix("--branch", "dev", "--branch", "main", "--environment", "prod"),
        before=((), ("--environment", "prod")),
    ),
    Case(
        "job-should-run-in-its-environment",
        ("--environment", "prod"),
        (),
        3,
        f"{SUB}:ref:refs/heads/main",
        "the job runs in no environment, so its sub names ref:refs/heads/main; the trust "
        "admits environments (prod) and not this",
        None,
        workflow_fix='add `environment: "prod"` to the job',
        before=(("--environment", "prod"),),
        after=("--environment", "prod"),
    ),
    Case(
        "owner-renamed-in-case",
        (),
        (),
        3,
        "repo:octo-org/Hello-World:ref:refs/heads/main",
        "the repository is named repo:octo-org/Hello-World now, and the trust names "
        f"{SUB}: GitHub's subjects are case-sensitive",
        _fix("--branch", "main"),
        arrange=_owner_case_renamed,
    ),
    Case(
        "repository-renamed",
        (),
        ("--role-name", ROLE),
        3,
        "repo:Octo-Org/Greeter:ref:refs/heads/main",
        f"the token names repo:Octo-Org/Greeter, and the trust {SUB}: the repository was "
        "renamed or moved",
        _fix("--branch", "main"),
        arrange=_repository_renamed,
        before=(("--role-name", ROLE),),
    ),
    Case(
        # GitHub's switch: the trust admits both forms until the repository has switched
        "immutable-subjects-admitted",
        (),
        (),
        0,
        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main",
        "statement GitHubActionsExactSubjects of the trust admits it",
        None,
        arrange=_immutable_subjects,
    ),
    Case(
        # --job-workflow: the job runs the repository's own workflow, not the platform's
        "job-workflow-not-admitted",
        ("--job-workflow", PLATFORM),
        (),
        3,
        f"{SUB}:ref:refs/heads/main",
        f"this job runs {OWN_WORKFLOW}; the role admits only jobs running {PLATFORM}",
        None,
        workflow_fix="have the job call an admitted workflow as a reusable workflow "
        "(`uses: octo-org/platform/.github/workflows/build.yml@main`)",
        before=(("--job-workflow", PLATFORM),),
        after=("--job-workflow", PLATFORM),
    ),
    Case(
        # the fix admits the branch and keeps the job workflows
        "job-workflow-kept-by-the-fix",
        ("--job-workflow", PLATFORM),
        ("--branch", "dev", "--job-workflow", PLATFORM),
        3,
        f"{SUB}:ref:refs/heads/dev",
        "the trust admits no branch dev",
        _fix("--branch", "dev", "--branch", "main", "--job-workflow", PLATFORM),
        before=(("--job-workflow", PLATFORM),),
    ),
    Case(
        "claims-admitted",
        (),
        ("--claims", "-"),
        0,
        f"{SUB}:ref:refs/heads/main",
        "statement GitHubActionsExactSubjects of the trust admits it",
        None,
        claims=claims_of(f"{SUB}:ref:refs/heads/main"),
    ),
    Case(
        "claims-with-a-numeric-id",  # hand-written: GitHub writes the id as a string
        (),
        ("--claims", "-"),
        0,
        f"{SUB}:ref:refs/heads/main",
        "statement GitHubActionsExactSubjects of the trust admits it",
        None,
        claims=json.dumps(
            {**json.loads(claims_of(f"{SUB}:ref:refs/heads/main")), "repository_id": 1000}
        ),
    ),
    Case(
        "claims-as-a-token",
        (),
        ("--claims", "-"),
        3,
        f"{SUB}:environment:staging",
        "an environment takes precedence",
        _fix("--branch", "main", "--environment", "staging"),
        claims=jwt(json.loads(claims_of(f"{SUB}:environment:staging"))),
    ),
    Case(
        "wrong-audience",
        (),
        ("--claims", "-"),
        3,
        f"{SUB}:ref:refs/heads/main",
        "the OIDC provider for token.actions.githubusercontent.com does not accept the "
        "audience 'https://github.com/Octo-Org'",
        None,
        claims=claims_of(f"{SUB}:ref:refs/heads/main", aud="https://github.com/Octo-Org"),
        workflow_fix="ask for sts.amazonaws.com instead",
        after=("--claims", "-"),
    ),
    Case(
        "issuer-without-provider",
        (),
        ("--claims", "-"),
        3,
        f"{SUB}:ref:refs/heads/main",
        f"the token comes from {ENTERPRISE_ISSUER}; the role trusts {ISSUER}",
        None,  # claims describe; they never configure the role's issuer
        claims=claims_of(f"{SUB}:ref:refs/heads/main", iss=ENTERPRISE_ISSUER),
    ),
]


def explain(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, job: tuple[str, ...], stdin: str | None = None
) -> tuple[CliResult, dict[str, Any]]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    result = cli("explain", REPO, *job, "--json")
    assert result.code in (0, 3), result.err
    answer: dict[str, Any] = json.loads(result.out)
    return result, answer


def run_as_printed(cli: Cli, command: str) -> None:
    words = shlex.split(command)
    assert words[:2] == ["ghbootstrap", "oidc"]
    done = cli(*words[1:])
    assert done.code == 0, done.err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_explain_says_why_and_its_fix_admits_the_job_and_keeps_the_rest(
    case: Case, cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = cli("oidc", REPO, *case.setup, "--no-workflow")
    assert made.code == 0, made.err
    for earlier in case.before:
        assert explain(cli, monkeypatch, earlier)[1]["admitted"] is True, earlier
    case.arrange(fake_github)
    repo = fake_github.repo(REPO)

    result, answer = explain(cli, monkeypatch, case.job, case.claims)

    assert result.code == case.code
    assert answer["admitted"] is (case.code == 0)
    assert answer["sub"] == case.sub
    assert answer["aud"] == "sts.amazonaws.com" or case.id == "wrong-audience"
    assert case.reason in answer["reason"]
    assert answer["fix"] == case.fix
    assert (case.workflow_fix or "") in (answer["workflow_fix"] or "")
    assert (answer["workflow_fix"] is None) is (case.workflow_fix is None)
    assert answer["role"] == ROLE
    if case.code == 0:
        return

    if case.fix is not None:
        run_as_printed(cli, case.fix)
        job, stdin = case.job, case.claims
    else:
        job = case.after or case.job
        stdin = claims_of(case.sub) if case.claims else None
    result, answer = explain(cli, monkeypatch, job, stdin)
    assert (result.code, answer["admitted"]) == (0, True), answer["reason"]
    for earlier in case.before:
        result, answer = explain(cli, monkeypatch, earlier)
        assert (result.code, answer["admitted"]) == (0, True), (earlier, answer["reason"])
    assert fake_github.repo(REPO) is repo


@pytest.mark.parametrize("detached", [False, True], ids=["attached", "policy-detached"])
def test_the_fix_keeps_region_names_and_settings_of_a_non_default_setup(
    detached: bool, cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    """The role's record says how it was set up, even with its push policy detached (no
    policy to read the region and names from): the fix restores that setup."""
    setup = (
        "--region", "eu-west-1", "--role-name", "ci-role", "--policy-name", "ci-push",
        "--ecr-repo", "team/app", "--mutable-tags", "--tag", "v*", "--environment", "prod",
    )  # fmt: skip
    assert cli("oidc", REPO, *setup, "--no-workflow").code == 0
    iam = boto3.client("iam", region_name=REGION)
    policies_before = iam.list_policies(Scope="Local")["Policies"]
    variables_before = fake_github.variables(REPO)
    policy_arn = "arn:aws:iam::123456789012:policy/ci-push"
    if detached:
        iam.detach_role_policy(RoleName="ci-role", PolicyArn=policy_arn)

    # No --region: the role and its push policy say where the setup was.
    result = cli("explain", REPO, "--role-name", "ci-role", "--branch", "main", "--json")

    assert result.code == 3, result.err
    fix = json.loads(result.out)["fix"]
    assert fix == (
        "ghbootstrap oidc octo-org/hello-world --region eu-west-1 --role-name ci-role "
        "--policy-name ci-push --ecr-repo team/app --branch main --tag 'v*' "
        "--environment prod --mutable-tags --no-workflow"
    )
    run_as_printed(cli, fix)
    for job in (("--branch", "main"), ("--tag", "v2"), ("--environment", "prod")):
        again = cli("explain", REPO, "--role-name", "ci-role", *job)
        assert again.code == 0, again.out
    ecr = boto3.client("ecr", region_name="eu-west-1")
    found = ecr.describe_repositories(repositoryNames=["team/app"])["repositories"][0]
    assert found["imageTagMutability"] == "MUTABLE"
    assert iam.list_policies(Scope="Local")["Policies"] == policies_before
    attached = iam.list_attached_role_policies(RoleName="ci-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy_arn]
    assert boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"] == []
    assert fake_github.variables(REPO) == variables_before
    assert variables_before["AWS_REGION"] == "eu-west-1"
    status = cli("status", REPO, "--region", "eu-west-1", "--role-name", "ci-role")
    assert status.code == 0, status.out


def test_a_missing_role_is_a_failure_that_says_what_to_do(
    cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    result = cli("explain", REPO)
    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        f"error: IAM role {ROLE} does not exist in account 123456789012: pass the "
        "--role-name the setup used, or create it: ghbootstrap oidc octo-org/hello-world "
        f"--region {REGION} --no-workflow\n"
    )


def test_the_command_creating_a_missing_role_makes_the_role_asked_about(
    cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    """Run as printed, it made the default role in the default region for the default
    branch: explain, asked again, still found no role, and a role stood where none was
    meant to be."""
    asked = ("explain", REPO, "--region", "eu-west-1", "--role-name", "ci-role", "--tag", "v1")
    result = cli(*asked)
    assert result.code == 1
    command = result.err.split("or create it: ")[1].strip()
    assert command == (
        "ghbootstrap oidc octo-org/hello-world --region eu-west-1 --role-name ci-role "
        "--tag v1 --no-workflow"
    )
    assert cli(*shlex.split(command)[1:]).code == 0
    assert cli(*asked).code == 0
    roles = boto3.client("iam", region_name=REGION).list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["ci-role"]


def test_text_output_names_the_verdict_and_the_fix(
    cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    result = cli("explain", REPO, "--pull-request")
    assert result.code == 3
    assert result.out.splitlines() == [
        f"ghbootstrap explain {REPO}",
        f"  role    {ROLE}",
        f"  sub     {SUB}:pull_request",
        "  aud     sts.amazonaws.com",
        f"  issuer  {ISSUER}",
        f"  admits  {SUB}:ref:refs/heads/main",
        "          repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main",
        "  pinned  repository id 1000",
        f"denied: nearest admitted subject {SUB}:ref:refs/heads/main: a pull request job's "
        "sub ends in pull_request, not in its branch, and the trust admits no pull requests",
        f"fix: {_fix('--branch', 'main', '--pull-requests')}",
    ]


def test_claims_mode_makes_no_github_call(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    calls = len(fake_github.requests)
    monkeypatch.delenv("GITHUB_TOKEN")
    result, answer = explain(cli, monkeypatch, ("--claims", "-"), claims_of(f"{SUB}:pull_request"))
    assert result.code == 3
    assert answer["fix"] == _fix("--branch", "main", "--pull-requests")
    assert len(fake_github.requests) == calls


DEEP = (
    "error: --claims: the input nests arrays or objects too deeply to be a token's claims: "
    "give a JSON object of the token's claims, or the token itself (header.payload.sig)\n"
)


def _part(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


SECRET_TOKEN = jwt({"sub": f"{SUB}:pull_request", "aud": "sts.amazonaws.com"}, b"sig-XYZ")


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("{not json", "error: --claims: the input is not valid JSON: give a JSON object"),
        ("[1, 2]", "error: --claims: the input is neither JSON nor a JWT"),
        ('{"aud": "sts.amazonaws.com"}', "error: --claims: the claims have no sub"),
        ("just-some-text", "error: --claims: the input is neither JSON nor a JWT"),
        ("eyJh.bm90IGpzb24.c2ln", "error: --claims: the token's payload is not JSON"),
        (SECRET_TOKEN.rsplit(".", 1)[0], "error: --claims: the input is neither JSON nor a JWT"),
        ("", "error: --claims: the input is neither JSON nor a JWT"),
        ('{"sub": ' + "[" * 100_000 + "]" * 100_000 + "}", DEEP),
        (jwt({}).split(".")[0] + "." + _part(("[" * 100_000).encode()) + ".c2ln", DEEP),
    ],
    ids=[
        "not-json",
        "json-array",
        "no-sub",
        "text",
        "payload-not-json",
        "two-parts",
        "empty",
        "nested-too-deep",  # was 'unexpected RecursionError: report it', exit 1
        "payload-nested-too-deep",
    ],
)
def test_bad_claims_are_one_line_exit_2_and_never_echoed(
    stdin: str, message: str, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    result = cli("explain", REPO, "--claims", "-")
    assert result.code == 2
    assert result.err.startswith(message)
    assert result.err.count("\n") == 1
    for part in [p for p in stdin.split(".") if len(p) > 3]:
        assert part not in result.err + result.out


# Bad descriptions of a job are rows of the one bad-input table, tests/test_bad_input.py.


def _edit_trust(edit: Callable[[dict[str, Any]], None]) -> None:
    iam = boto3.client("iam", region_name=REGION)
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    edit(trust)
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))


def _add_pattern(trust: dict[str, Any]) -> None:
    trust["Statement"].append(
        {
            **trust["Statement"][0],
            "Sid": "HandWritten",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": f"{SUB}:ref:refs/*/x"},
            },
        }
    )


OTHER_REPOSITORY_SUB = "repo:Octo-Org/Other:ref:refs/heads/main"


def _add_other_repository(trust: dict[str, Any]) -> None:
    """Another repository's CI, let in by hand: a rewrite from this repository's scopes
    would lock it out."""
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    key = "token.actions.githubusercontent.com:sub"
    condition[key] = [*_as_list(condition[key]), OTHER_REPOSITORY_SUB]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _add_deny(trust: dict[str, Any]) -> None:
    trust["Statement"].append(
        {**trust["Statement"][0], "Sid": "NoMain", "Effect": "Deny", "Condition": {}}
    )


def _untag(fake: FakeGitHub) -> None:
    boto3.client("iam", region_name=REGION).untag_role(
        RoleName=ROLE, TagKeys=["ghbootstrap:repository"]
    )


def _drop_audience(fake: FakeGitHub) -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    iam = boto3.client("iam", region_name=REGION)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)  # moto cannot
    iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=["other"])  # remove one


@pytest.mark.parametrize(
    ("arrange", "job", "reason", "fix"),
    [
        (
            lambda fake: _edit_trust(_add_pattern),
            ("--branch", "dev"),
            "; the trust was changed by hand, and `ghbootstrap oidc` would drop that change: "
            f"add the subject {SUB}:ref:refs/heads/dev to it by hand",
            None,
        ),
        (
            _hand_written_colon,
            ("--environment", "a:b"),
            "GitHub writes ':' in environment names as %3A, so the job's sub ends in "
            "environment:a%3Ab, and the trust names environment:a:b; the trust was changed "
            "by hand, and `ghbootstrap oidc` would drop that change: add the subject "
            f"{SUB}:environment:a%3Ab to it by hand",
            None,
        ),
        (
            lambda fake: _edit_trust(_add_other_repository),
            ("--branch", "dev"),
            "; the trust was changed by hand, and `ghbootstrap oidc` would drop that change: "
            f"add the subject {SUB}:ref:refs/heads/dev to it by hand",
            None,
        ),
        (
            lambda fake: _edit_trust(_add_deny),
            (),
            "statement NoMain of the trust denies it explicitly",
            None,
        ),
        (
            _untag,
            ("--branch", "dev"),
            f"; role {ROLE} was not made by ghbootstrap: change its trust by hand",
            None,
        ),
        (
            _drop_audience,
            (),
            "the OIDC provider for token.actions.githubusercontent.com lacks the audience "
            "sts.amazonaws.com",
            _fix("--branch", "main"),
        ),
    ],
    ids=[
        "hand-written-pattern",
        "colon-in-environment-encoding",
        "another-repository",
        "explicit-deny",
        "not-made-by-ghbootstrap",
        "provider-audience",
    ],
)
def test_denials_only_a_hand_or_a_rerun_can_fix(
    arrange: Arrange,
    job: tuple[str, ...],
    reason: str,
    fix: str | None,
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    arrange(fake_github)
    result, answer = explain(cli, monkeypatch, job)
    assert result.code == 3
    assert answer["admitted"] is False
    assert answer["reason"].endswith(reason)
    assert answer["fix"] == fix
    assert answer["workflow_fix"] is None


@pytest.mark.parametrize(
    "sub",
    [
        f"{SUB}:ref:refs/pull/7/merge",
        f"{SUB}:job_workflow_ref:octo-org/hello-world/.github/workflows/ci.yml@refs/heads/main",
        "no-context-at-all",
    ],
    ids=["merge-ref", "custom-claim", "no-context"],
)
def test_a_context_no_scope_writes_is_denied_with_no_fix(
    sub: str, cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sub `oidc` has no scope for: no command admits it, so none is printed (it used
    to stop with a usage error about a --branch nobody gave)."""
    assert cli("oidc", REPO, "--no-workflow").code == 0
    result, answer = explain(cli, monkeypatch, ("--claims", "-"), claims_of(sub))
    assert result.code == 3
    assert answer["fix"] is None
    assert answer["workflow_fix"] is None
    assert answer["reason"].endswith(
        f"no `ghbootstrap oidc` scope admits {sub} (a scope names a branch, tag, environment "
        "or pull requests): change the trust by hand if this job may assume the role"
    )


def test_a_token_given_as_such_never_reaches_the_output(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    token = jwt(json.loads(claims_of(f"{SUB}:ref:refs/heads/main")), b"\x01sig\xff" * 8)
    for extra in ((), ("--json",), ("-v",)):
        monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
        result = cli("explain", REPO, "--claims", "-", *extra)
        assert result.code == 0, result.err
        for part in token.split("."):
            assert part not in result.out + result.err


# -- claims are evidence, never configuration ---------------------------------------------------


def _state(fake_github: FakeGitHub) -> tuple[Any, ...]:
    iam = boto3.client("iam", region_name=REGION)
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    return sorted(p["Arn"] for p in providers), trust, fake_github.variables(REPO)


def test_a_token_from_an_issuer_the_role_does_not_trust_is_denied_with_no_fix(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    before = _state(fake_github)
    stranger = claims_of(f"{SUB}:ref:refs/heads/main", iss="https://token.example.net")

    result, answer = explain(cli, monkeypatch, ("--claims", "-"), stranger)

    assert result.code == 3
    assert answer["admitted"] is False
    assert answer["reason"] == (
        f"the token comes from https://token.example.net; the role trusts {ISSUER}"
    )
    assert answer["fix"] is None
    assert answer["workflow_fix"] is None
    assert _state(fake_github) == before
    assert cli("audit").code == 0  # still one role trusting GitHub's issuer, pinned


@pytest.mark.parametrize(
    ("audiences", "code", "judged", "reason"),
    [
        (["https://github.com/Octo-Org", "sts.amazonaws.com"], 0, "sts.amazonaws.com", "admits it"),
        (["sts.amazonaws.com", "https://github.com/Octo-Org"], 0, "sts.amazonaws.com", "admits it"),
        (
            ["https://github.com/Octo-Org", "api://other"],
            3,
            "https://github.com/Octo-Org",
            "does not accept the audience 'https://github.com/Octo-Org'",
        ),
    ],
)
def test_an_audience_array_is_judged_member_by_member(
    audiences: list[str],
    code: int,
    judged: str,
    reason: str,
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    claims = {"sub": f"{SUB}:ref:refs/heads/main", "aud": audiences, "iss": ISSUER, **IDS}

    for given in (json.dumps(claims), jwt(claims)):
        result, answer = explain(cli, monkeypatch, ("--claims", "-"), given)
        assert result.code == code, answer
        assert answer["aud"] == judged
        assert reason in answer["reason"]


def test_a_token_whose_parts_carry_padding_is_read(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("oidc", REPO, "--no-workflow").code == 0
    claims = {"sub": f"{SUB}:ref:refs/heads/main", "aud": "sts.amazonaws.com", "iss": ISSUER, **IDS}
    paddings = set()
    for extra in range(3):  # payloads of every length modulo 3: 0, 1 or 2 '='
        claims["jti"] = "x" * extra
        header, payload, signature = jwt(claims).split(".")
        padded = base64.urlsafe_b64encode(base64.urlsafe_b64decode(payload + "==")).decode()
        paddings.add(len(padded) - len(padded.rstrip("=")))
        token = f"{header}.{padded}.{signature}"
        result, answer = explain(cli, monkeypatch, ("--claims", "-"), token)
        assert (result.code, answer["admitted"]) == (0, True), answer
    assert paddings == {0, 1, 2}
