"""scan's rules: which secret names hold AWS keys, what a workflow file reads, the verdict."""

from __future__ import annotations

import pytest

from ghbootstrap.inventory import (
    KEYS,
    KEYS_OTHER,
    NONE,
    OIDC,
    UNREADABLE,
    FoundSecret,
    KeySetupFacts,
    Migration,
    RepoFacts,
    WorkflowUse,
    is_key_name,
    judge,
    read_workflow,
)
from ghbootstrap.keyrecord import KeyRecord, record_scope
from tests.other_workflows import role_workflow


@pytest.mark.parametrize(
    ("name", "holds_a_key"),
    [
        ("AWS_ACCESS_KEY_ID", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("PROD_AWS_ACCESS_KEY_ID", True),
        ("AWS_SECRET_ACCESS_KEY_CI", True),
        ("STAGING_AWS_SECRET_ACCESS_KEY_2", True),
        ("aws_access_key_id", True),
        ("MYAWS_ACCESS_KEY_ID", False),  # not a word of its own
        ("AWS_ACCESS_KEY_IDENTITY", False),
        ("AWS_ROLE_ARN", False),
        ("AWS_REGION", False),
        ("GHBOOTSTRAP_GITHUB_TOKEN", False),
    ],
)
def test_aws_key_secret_names(name: str, holds_a_key: bool) -> None:
    assert is_key_name(name) is holds_a_key


CONFIGURE = """\
name: deploy
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{ secrets.DEPLOY_ID }}
          aws-secret-access-key: ${{ secrets['DEPLOY_SECRET'] }}
          aws-region: us-east-1
      - run: make deploy
        env:
          TOKEN: ${{ secrets.NPM_TOKEN }}
"""
ENV = """\
on: push
env:
  AWS_ACCESS_KEY_ID: ${{ secrets.PROD_AWS_ACCESS_KEY_ID }}
jobs:
  push:
    runs-on: ubuntu-latest
    env: { AWS_SECRET_ACCESS_KEY: "${{ secrets.PROD_KEY }}" }
    steps:
      - run: aws s3 ls
"""
COMMENTED = """\
on: push
jobs:
  push:
    runs-on: ubuntu-latest
    steps:
      # aws-access-key-id: ${{ secrets.OLD_ID }}
      # role-to-assume: arn:aws:iam::1:role/x
      - run: echo hi  # ${{ secrets.AWS_ACCESS_KEY_ID }}
"""
PYPI = """\
on: push
permissions:
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


@pytest.mark.parametrize(
    ("text", "keys", "role"),
    [
        (CONFIGURE, {"DEPLOY_ID", "DEPLOY_SECRET"}, False),
        (ENV, {"PROD_AWS_ACCESS_KEY_ID", "PROD_KEY"}, False),
        (role_workflow().decode(), set(), True),
        (COMMENTED, set(), False),
        (PYPI, set(), False),  # an OIDC token for something else is not an AWS role
        (
            "run: aws configure set aws_secret_access_key ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n",
            {"AWS_SECRET_ACCESS_KEY"},
            False,
        ),
    ],
)
def test_what_a_workflow_reads(text: str, keys: set[str], role: bool) -> None:
    use = read_workflow(".github/workflows/x.yml", text)
    assert use == WorkflowUse(".github/workflows/x.yml", frozenset(keys), role)


REPO_SECRETS = (
    FoundSecret("AWS_ACCESS_KEY_ID", "repository", "2026-01-01T00:00:05Z"),
    FoundSecret("AWS_SECRET_ACCESS_KEY", "repository", "2026-01-01T00:00:06Z"),
)
DEPLOY = WorkflowUse(".github/workflows/deploy.yml", frozenset({"AWS_ACCESS_KEY_ID"}))
SETUP = KeySetupFacts(
    repository="acme/api",
    user="ghbootstrap-acme-api",
    record=KeyRecord(
        held="AKIA1",
        scope=record_scope(None),
        id_written="2026-01-01T00:00:05Z",
        secret_written="2026-01-01T00:00:06Z",
    ),
    keys=(),
)
MIGRATION = Migration(
    "ghbootstrap migrate acme/api --region us-east-1 --open-pr",
    "us-east-1",
    True,
    "ghbootstrap-acme-api",
    None,
    False,
)


def test_a_ghbootstrap_setup_is_keys_and_names_the_migration() -> None:
    judged = judge(RepoFacts("acme/api", REPO_SECRETS, (), (DEPLOY,)), SETUP, MIGRATION)
    assert judged.verdict == KEYS
    assert judged.secrets == REPO_SECRETS
    assert judged.workflows == (".github/workflows/deploy.yml",)
    assert judged.reason == (
        "made by ghbootstrap (IAM user ghbootstrap-acme-api): move it to OIDC with "
        "`ghbootstrap migrate acme/api --region us-east-1 --open-pr`"
    )


def test_secrets_rewritten_since_or_elsewhere_are_named_as_not_ghbootstrap_s() -> None:
    secrets = (
        FoundSecret("AWS_ACCESS_KEY_ID", "repository", "2026-02-01T00:00:00Z"),  # rewritten
        REPO_SECRETS[1],
        FoundSecret("PROD_AWS_ACCESS_KEY_ID", "environment prod", "x"),
        FoundSecret("AWS_ACCESS_KEY_ID", "organization", "x"),
    )
    judged = judge(RepoFacts("acme/api", secrets), SETUP, MIGRATION)
    assert judged.verdict == KEYS
    assert judged.reason.endswith(
        "; also AWS key secrets ghbootstrap did not write: AWS_ACCESS_KEY_ID (repository), "
        "PROD_AWS_ACCESS_KEY_ID (environment prod), AWS_ACCESS_KEY_ID (organization)"
    )


def test_other_verdicts() -> None:
    other = judge(RepoFacts("acme/x", REPO_SECRETS, (), (DEPLOY,)), None, None)
    assert (other.verdict, other.reason) == (
        KEYS_OTHER,
        "AWS key secrets AWS_ACCESS_KEY_ID (repository), AWS_SECRET_ACCESS_KEY (repository), "
        "read by .github/workflows/deploy.yml",
    )
    role = WorkflowUse(".github/workflows/push.yml", assumes_role=True)
    assert judge(RepoFacts("acme/x", (), (), (role,)), None, None).verdict == OIDC
    both = judge(RepoFacts("acme/x", REPO_SECRETS, (), (role,)), None, None)
    assert both.verdict == KEYS_OTHER  # a role does not make the keys go away
    nothing = judge(RepoFacts("acme/x", (FoundSecret("NPM_TOKEN", "repository"),)), None, None)
    assert (nothing.verdict, nothing.secrets, nothing.reason) == (NONE, (), "")
    unset = judge(RepoFacts("acme/x", (), (), (DEPLOY,)), None, None)
    assert (unset.verdict, unset.reason) == (
        NONE,
        ".github/workflows/deploy.yml read AWS key secrets that are not set",
    )
    missing = ("the token may not list the secrets of acme/x: give it Secrets: read",)
    unreadable = judge(RepoFacts("acme/x", (), (), (role,), missing), None, None)
    assert (unreadable.verdict, unreadable.reason) == (UNREADABLE, missing[0])


def test_a_secret_a_workflow_passes_as_a_key_counts_whatever_its_name() -> None:
    use = read_workflow("w.yml", CONFIGURE)
    facts = RepoFacts("acme/x", (FoundSecret("DEPLOY_ID", "repository"),), (), (use,))
    judged = judge(facts, None, None)
    assert judged.verdict == KEYS_OTHER
    assert [s.name for s in judged.secrets] == ["DEPLOY_ID"]
