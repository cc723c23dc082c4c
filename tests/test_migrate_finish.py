"""migrate --finish removes the key only once the replacement is proven on the default branch:
the role and its policy, AWS_ROLE_ARN where the build job reads it, a trust that admits the
subject that job presents, and no workflow left reading the key's secrets. And phase one
replaces the build workflow `keys` wrote, in the key's environment, admitting no more."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from ghbootstrap.aws.session import Aws
from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.footprint import KeysGiven
from tests.checkouts import git_checkout
from tests.conftest import ACCOUNT, REGION, AwsCalls, CliResult
from tests.fakes.github import FakeGitHub
from tests.fakes.serve import GHES_API, GHES_ISSUER
from tests.printed import parse_as_printed
from tests.test_migrate import github_key_works

Cli = Callable[..., CliResult]
REPO = "Octo-Org/Hello-World"
TYPED = "octo-org/hello-world"
USER = "ghbootstrap-octo-org-hello-world"
ROLE = "ghbootstrap-octo-org-hello-world"
POLICY = "ghbootstrap-ecr-push-octo-org-hello-world"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{POLICY}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
BUILD = ".github/workflows/ecr-build-push.yml"
SUB = "token.actions.githubusercontent.com:sub"
PROD = {"environment": "prod"}  # where the key's secrets live, for `unchanged`
FIX = (
    "ghbootstrap removes the key only once the default branch runs on the role alone: "
    "complete phase one (`ghbootstrap migrate` without --finish), merge its change and let "
    "it run, change each workflow named so it no longer reads the key's secrets, then run "
    "this again"
)

HAND_WRITTEN = """\
name: build
on:
  push:
    branches: [main]
permissions:
  id-token: write
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.AWS_ROLE_ARN }}
          aws-region: us-east-1
"""


@pytest.fixture
def unchanged(
    cli: Cli, aws: Aws, aws_calls: AwsCalls, fake_github: FakeGitHub
) -> Callable[..., CliResult]:
    """Runs a command that must change nothing: its exit code as expected, no AWS or GitHub
    write, and the key GitHub holds still signs in."""

    def run(*args: str, code: int = 1, environment: str | None = None) -> CliResult:
        held = github_key_works(fake_github, aws, environment)
        mark, github_mark = len(aws_calls.names), len(fake_github.writes())
        result = cli(*args)
        assert result.code == code, result.out + result.err
        assert aws_calls.writes_since(mark) == []
        assert fake_github.writes()[github_mark:] == []
        assert github_key_works(fake_github, aws, environment) == held
        return result

    return run


def printed_finish(out: str) -> list[str]:
    """The --finish command phase one printed, as arguments."""
    [finish] = [
        line.split(": ", 2)[2]
        for line in out.splitlines()
        if line.startswith("note: then remove the key")
    ]
    return shlex.split(finish)[1:]


def on_main(fake: FakeGitHub) -> dict[str, str]:
    return {p: d.decode() for p, d in fake.repo(REPO).files.items()}


def commit_on_main(fake: FakeGitHub, changes: dict[str, str | None]) -> None:
    """A commit someone pushes to the default branch (None deletes the file)."""
    repo = fake.repo(REPO)
    files = dict(repo.files)
    for path, text in changes.items():
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text.encode()
    repo.commit(repo.default_branch, files)


def migrated(cli: Cli, fake: FakeGitHub, *keys_args: str) -> list[str]:
    """keys and migrate's phase one, both merged; returns the printed --finish command."""
    keys = cli("keys", TYPED, "--open-pr", *keys_args)
    assert keys.code == 0, keys.err
    fake.merge(REPO, 1)
    first = cli("migrate", TYPED, "--open-pr")
    assert first.code == 0, first.err
    fake.merge(REPO, 2)
    return printed_finish(first.out)


def trust_subjects() -> list[str]:
    trust = boto3.client("iam", region_name=REGION).get_role(RoleName=ROLE)["Role"][
        "AssumeRolePolicyDocument"
    ]
    [allow] = [s for s in trust["Statement"] if s["Effect"] == "Allow"]
    return sorted(allow["Condition"]["StringEquals"][SUB])


def test_no_role_and_no_variable_removes_nothing(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """Reproduced on 0.2.0: a hand-written workflow naming vars.AWS_ROLE_ARN was enough to
    delete the key, its secrets and the user, with no role and no variable behind it."""
    assert cli("keys", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    commit_on_main(fake_github, {BUILD: HAND_WRITTEN})
    done = unchanged("migrate", TYPED, "--finish", "--yes")
    assert done.err == (
        f"error: nothing was removed: IAM role {ROLE} does not exist; "
        f"AWS_ROLE_ARN is not set in {REPO}: {FIX}\n"
    )
    assert [u["UserName"] for u in aws.iam.raw.list_users()["Users"]] == [USER]


def test_the_build_workflow_keys_wrote_is_replaced_not_doubled(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    """Reproduced on 0.2.0: `keys --workflow-path build.yml`, then `migrate --open-pr` added
    a second workflow at the default path; --finish then removed the key that build.yml,
    still on the default branch, signed in with."""
    path = ".github/workflows/build.yml"
    finish = migrated(cli, fake_github, "--workflow-path", path)
    workflows = sorted(p for p in on_main(fake_github) if p.startswith(".github/workflows/"))
    assert workflows == [path]
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in on_main(fake_github)[path]
    assert finish == ["migrate", TYPED, "--finish", "--region", REGION]
    tags = {t["Key"]: t["Value"] for t in aws.iam.raw.list_user_tags(UserName=USER)["Tags"]}
    recorded = KeysGiven.from_tags(tags, USER)
    assert recorded is not None
    assert recorded.workflow == path

    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID") is None


def test_the_keys_build_workflow_left_beside_the_new_one_keeps_the_key(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """The end state of the reproduction, reached by hand: the OIDC workflow at the default
    path on the default branch, and build.yml, which `keys` wrote, still beside it."""
    path = ".github/workflows/build.yml"
    assert cli("keys", TYPED, "--open-pr", "--workflow-path", path).code == 0
    fake_github.merge(REPO, 1)
    first = cli("migrate", TYPED, "--no-workflow")
    assert first.code == 0, first.err
    oidc = cli("oidc", TYPED, "--dry-run", "--open-pr", "--json")
    assert oidc.code == 0, oidc.err
    written = next(
        c["document"] for c in json.loads(oidc.out)["resources"] if c["resource"] == "pull request"
    )
    commit_on_main(fake_github, {BUILD: written.partition("\n")[2]})
    done = unchanged("migrate", TYPED, "--finish", "--yes", "--workflow-path", BUILD)
    assert done.err == (
        f"error: nothing was removed: {path} on main reads the key's secrets "
        f"(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): {FIX}\n"
    )


def test_a_workflow_path_other_than_the_recorded_one_is_refused(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    assert cli("keys", TYPED, "--open-pr", "--workflow-path", ".github/workflows/b.yml").code == 0
    fake_github.merge(REPO, 1)

    refused = unchanged("migrate", TYPED, "--open-pr", "--workflow-path", BUILD, code=2)
    assert refused.err == (
        f"error: --workflow-path {BUILD}: the key's build workflow is .github/workflows/b.yml "
        f"(IAM user {USER} records it), and migrate replaces it rather than adding a second "
        "one: leave --workflow-path out, or pass --workflow-path .github/workflows/b.yml\n"
    )


def test_workflows_still_reading_the_key_keep_it(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    finish = migrated(cli, fake_github)
    deploy = (
        "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: ./deploy\n        env:\n"
        "          ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n"
        "          KEY: ${{ secrets['AWS_SECRET_ACCESS_KEY'] }}\n"
    )
    nightly = "on: push\njobs:\n  n:\n    env:\n      ALL: ${{ toJSON(secrets) }}\n"
    lint = (
        "# this workflow no longer reads secrets.AWS_ACCESS_KEY_ID\n"
        "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
    )
    commit_on_main(
        fake_github,
        {
            ".github/workflows/deploy.yml": deploy,
            ".github/workflows/nightly.yaml": nightly,
            ".github/workflows/lint.yml": lint,
            ".github/workflows/scripts/notes.txt": "secrets.AWS_ACCESS_KEY_ID",
        },
    )
    done = unchanged(*finish, "--yes")
    assert done.err == (
        "error: nothing was removed: .github/workflows/deploy.yml on main reads the key's "
        "secrets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); .github/workflows/nightly.yaml "
        f"on main reads the key's secrets (every secret, through toJSON(secrets)): {FIX}\n"
    )

    commit_on_main(
        fake_github,
        {".github/workflows/deploy.yml": None, ".github/workflows/nightly.yaml": None},
    )
    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []


def test_the_build_job_keeps_the_keys_environment(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """Reproduced on 0.2.0: `migrate --environment aaa` on a key kept in prod moved the job
    out of prod, and with no scope the role admitted the default branch outside prod too."""
    assert cli("keys", TYPED, "--environment", "prod", "--open-pr").code == 0
    fake_github.merge(REPO, 1)

    refused = unchanged("migrate", TYPED, "--open-pr", "--environment", "aaa", code=2, **PROD)
    assert refused.err == (
        "error: --environment aaa: the key's secrets live in environment prod, and the build "
        "job stays there (elsewhere it would run without prod's protection rules): leave "
        "--environment out, or pass --environment prod\n"
    )

    first = cli("migrate", TYPED, "--open-pr")
    assert first.code == 0, first.err
    assert trust_subjects() == [  # not main outside prod; both forms until the switch
        f"repo:{REPO}:environment:prod",
        "repo:Octo-Org@1001/Hello-World@1000:environment:prod",
    ]
    fake_github.merge(REPO, 2)
    assert 'environment: "prod"' in on_main(fake_github)[BUILD]

    # A workflow reading the repository's own AWS secrets outside prod reads no key of ours;
    # one in prod (any spelling GitHub accepts) does.
    elsewhere = (
        "on: push\njobs:\n  other:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ secrets.AWS_ACCESS_KEY_ID }}\n"
    )
    in_prod = (
        "on: push\njobs:\n  other:\n    runs-on: ubuntu-latest\n    environment:\n"
        "      name: Prod\n      url: https://example.com\n    steps:\n"
        "      - run: echo ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n"
    )
    commit_on_main(
        fake_github,
        {".github/workflows/other.yml": elsewhere, ".github/workflows/prod.yml": in_prod},
    )
    done = unchanged("migrate", TYPED, "--finish", "--yes", **PROD)
    assert done.err == (
        "error: nothing was removed: .github/workflows/prod.yml on main reads the key's "
        f"secrets (AWS_SECRET_ACCESS_KEY): {FIX}\n"
    )

    commit_on_main(fake_github, {".github/workflows/prod.yml": None})
    done = cli("migrate", TYPED, "--finish", "--yes")
    assert done.code == 0, done.err
    notes = [line for line in done.out.splitlines() if line.startswith("note: checked: ")]
    assert notes == [
        f"note: checked: IAM role {ROLE} exists, with policy {POLICY} attached",
        f"note: checked: AWS_ROLE_ARN in {REPO} environment prod names IAM role {ROLE}",
        f"note: checked: the trust admits repo:{REPO}:environment:prod, the subject {BUILD} "
        "presents on main (statement GitHubActionsExactSubjects of the trust admits it)",
        "note: checked: no workflow on main (2 files in .github/workflows) reads the key's "
        f"secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY in {REPO} environment prod",
    ]
    assert aws.iam.raw.list_users()["Users"] == []
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID", "prod") is None
    status = cli("status", TYPED)
    assert status.code == 0, status.out + status.err


def test_a_role_that_does_not_admit_the_job_keeps_the_key(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    finish = migrated(cli, fake_github)
    trust = aws.iam.raw.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Condition"]["StringEquals"][SUB] = [
        f"repo:{REPO}:ref:refs/heads/release"
    ]
    aws.iam.raw.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))
    aws.iam.raw.detach_role_policy(RoleName=ROLE, PolicyArn=POLICY_ARN)
    other = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    fake_github.repo(REPO).scope.variables["AWS_ROLE_ARN"]["value"] = other
    done = unchanged(*finish, "--yes")
    assert done.err == (
        f"error: nothing was removed: policy {POLICY} is not attached to IAM role {ROLE}; "
        f"AWS_ROLE_ARN in {REPO} names {other}, not IAM role {ROLE}; the trust of IAM role "
        f"{ROLE} does not admit repo:{REPO}:ref:refs/heads/main, the subject {BUILD} presents "
        f"on main: nearest admitted subject repo:{REPO}:ref:refs/heads/release: the trust "
        f"admits no branch main: {FIX}\n"
    )


def test_the_subject_follows_the_repositorys_oidc_settings(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    repo = fake_github.repo(REPO)
    repo.oidc = {"use_default": True, "use_immutable_subject": True}
    finish = migrated(cli, fake_github)
    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    subject = f"repo:{repo.owner}@{repo.owner_id}/{repo.name}@{repo.id}:ref:refs/heads/main"
    assert f"note: checked: the trust admits {subject}, the subject {BUILD} presents" in (done.out)
    assert aws.iam.raw.list_users()["Users"] == []


def test_in_a_checkout_the_recorded_file_is_replaced(
    cli: Cli,
    aws: Aws,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    unchanged: Cli,
) -> None:
    """Locally too: `keys --workflow-path` inside the checkout records the file's path in the
    repository; `migrate` from the checkout replaces that file, and --finish checks it."""
    root = git_checkout(tmp_path / "hello", REPO)
    (root / "src").mkdir()
    monkeypatch.chdir(root / "src")
    made = cli("keys", TYPED, "--workflow-path", "../.github/workflows/build.yml")
    assert made.code == 0, made.err
    local = root / ".github/workflows/build.yml"
    keys_file = local.read_text()

    first = cli("migrate", TYPED)
    assert first.code == 0, first.err
    assert not (root / BUILD).exists()
    replaced = local.read_text()
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in replaced
    assert f"note: next: commit {local} (and" in first.out
    finish = printed_finish(first.out)
    assert finish == ["migrate", TYPED, "--finish", "--region", REGION]

    commit_on_main(fake_github, {".github/workflows/build.yml": keys_file})
    early = unchanged(*finish, "--yes")
    assert early.err.startswith(
        "error: nothing was removed: .github/workflows/build.yml on main does not read"
    )
    commit_on_main(fake_github, {".github/workflows/build.yml": replaced})  # pushed, and it ran
    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []


GHES_HOST = "github.example.com/_services/token"
GHES_SUB = f"{GHES_HOST}:sub"
GITHUB_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def _trusted_providers() -> list[str]:
    trust = boto3.client("iam", region_name=REGION).get_role(RoleName=ROLE)["Role"][
        "AssumeRolePolicyDocument"
    ]
    return sorted({s["Principal"]["Federated"] for s in trust["Statement"]})


def test_on_enterprise_server_the_role_trusts_the_servers_issuer(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """Reproduced before 0.x: on GHES, migrate made a role trusting github.com's provider,
    which the server's jobs can never assume, and --finish (proving against that same
    issuer) removed the key. Now the role trusts the server's issuer, and --finish removes
    the key only once that trust admits the server's job."""
    keys = cli("keys", TYPED, "--open-pr", "--github-api-url", GHES_API)
    assert keys.code == 0, keys.err
    fake_github.merge(REPO, 1)
    first = cli("migrate", TYPED, "--open-pr", "--github-api-url", GHES_API)
    assert first.code == 0, first.err
    fake_github.merge(REPO, 2)
    assert _trusted_providers() == [f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GHES_HOST}"]
    finish = printed_finish(first.out)
    assert finish == [
        "migrate", TYPED, "--finish", "--region", REGION,
        "--issuer-url", GHES_ISSUER, "--github-api-url", GHES_API,
    ]  # fmt: skip

    # the trust stops admitting the server's job on main: the key stays
    trust = aws.iam.raw.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    kept = json.dumps(trust)
    trust["Statement"][0]["Condition"]["StringEquals"][GHES_SUB] = [
        f"repo:{REPO}:ref:refs/heads/release"
    ]
    aws.iam.raw.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))
    refused = unchanged(*finish, "--yes")
    assert f"the trust of IAM role {ROLE} does not admit repo:{REPO}:ref:refs/heads/main" in (
        refused.err
    )

    aws.iam.raw.update_assume_role_policy(RoleName=ROLE, PolicyDocument=kept)
    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    assert f"the trust admits repo:{REPO}:ref:refs/heads/main" in done.out
    assert aws.iam.raw.list_users()["Users"] == []
    assert fake_github.secret(REPO, "AWS_ACCESS_KEY_ID") is None


def test_a_role_on_githubs_issuer_for_a_server_repository_keeps_the_key(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """What migrate made on GHES before (github.com's issuer): --finish names both issuers
    and the phase one that moves the role; run as printed, --finish then passes."""
    assert cli("keys", TYPED, "--open-pr", "--github-api-url", GHES_API).code == 0
    fake_github.merge(REPO, 1)
    first = cli(
        "migrate", TYPED, "--open-pr", "--github-api-url", GHES_API, "--issuer-url", GITHUB_ISSUER
    )
    assert first.code == 0, first.err
    fake_github.merge(REPO, 2)
    assert _trusted_providers() == [GITHUB_PROVIDER]
    finish = printed_finish(first.out)

    refused = unchanged(*finish, "--yes")
    fix = (
        f"ghbootstrap migrate {TYPED} --region {REGION} --issuer-url {GHES_ISSUER} "
        f"--github-api-url {GHES_API} --no-workflow"
    )
    assert refused.err == (
        f"error: nothing was removed: IAM role {ROLE} trusts tokens of {GITHUB_ISSUER}, but "
        f"jobs of {REPO} on github.example.com present tokens of {GHES_ISSUER}, so the role "
        f"cannot replace the key: move the role to {GHES_ISSUER} with `{fix}`, then run this "
        "again\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        assert parse_as_printed(fix, patch).request.issuer == GHES_ISSUER

    moved = cli(*shlex.split(fix)[1:])
    assert moved.code == 0, moved.err
    assert (
        f"  update     IAM role              {ROLE}  (trust policy differs: moves it from the "
        f"issuer {GITHUB_ISSUER} to {GHES_ISSUER})\n"
    ) in moved.out
    assert _trusted_providers() == [f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GHES_HOST}"]
    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []


def test_an_enterprise_issuer_of_github_com_is_taken_as_recorded(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path
) -> None:
    """An enterprise's own issuer on github.com (GITHUB_ISSUER/SLUG) is named by no API
    URL: the role's record of it stands, and the printed --finish names it."""
    slug = f"{GITHUB_ISSUER}/octo-enterprise"
    assert cli("keys", TYPED, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    first = cli("migrate", TYPED, "--open-pr", "--issuer-url", slug)
    assert first.code == 0, first.err
    fake_github.merge(REPO, 2)
    finish = printed_finish(first.out)
    assert finish == ["migrate", TYPED, "--finish", "--region", REGION, "--issuer-url", slug]
    done = cli("migrate", TYPED, "--finish", "--yes")  # without it too: the record stands
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []


def test_a_key_ghbootstrap_did_not_record_stops_the_finish(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """Reproduced on main: a second key someone made on the user (for a laptop, another
    pipeline) was deleted with the user, though only the build workflow's key was proven
    replaced; `keys` and `rotate` already refuse to touch such a key."""
    finish = migrated(cli, fake_github)
    stranger = aws.iam.raw.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    done = unchanged(*finish, "--yes")
    assert done.err == (
        f"error: IAM user {USER} has access key {stranger}, which ghbootstrap did not record "
        "as the key GitHub holds; someone else may use it: if nothing uses it, delete it: "
        f"aws iam delete-access-key --user-name {USER} --access-key-id {stranger}\n"
    )
    assert stranger in [
        k["AccessKeyId"] for k in aws.iam.raw.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    ]
    aws.iam.raw.delete_access_key(UserName=USER, AccessKeyId=stranger)  # as the fix says
    assert cli(*finish, "--yes").code == 0
    assert aws.iam.raw.list_users()["Users"] == []


def test_a_reusable_workflow_given_every_secret_keeps_the_key(
    cli: Cli, aws: Aws, fake_github: FakeGitHub, here: Path, unchanged: Cli
) -> None:
    """Reproduced on main: a job calling another repository's workflow with
    `secrets: inherit` hands it AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY without naming
    them, and --finish said no workflow read them and deleted the key it used."""
    finish = migrated(cli, fake_github)
    deploy = (
        "on: push\njobs:\n  deploy:\n"
        "    uses: octo-org/shared/.github/workflows/push.yml@main\n"
        "    secrets: inherit  # the called workflow signs in with the key\n"
    )
    commit_on_main(fake_github, {".github/workflows/deploy.yml": deploy})
    done = unchanged(*finish, "--yes")
    assert done.err == (
        "error: nothing was removed: .github/workflows/deploy.yml on main reads the key's "
        f"secrets (every secret, through secrets: inherit): {FIX}\n"
    )

    passed = deploy.replace("secrets: inherit", "secrets:\n      token: ${{ secrets.OTHER }}")
    commit_on_main(fake_github, {".github/workflows/deploy.yml": passed})
    done = cli(*finish, "--yes")
    assert done.code == 0, done.err
    assert aws.iam.raw.list_users()["Users"] == []
