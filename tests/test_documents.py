"""The exact documents written to AWS, checked without AWS (and by parliament)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ghbootstrap.documents import (
    ECR_PUSH_ACTIONS,
    canonical,
    lifecycle_policy,
    oidc_provider_arn,
    push_policy,
    same_document,
    self_rotation_policy,
    trust_policy,
)
from ghbootstrap.subjects import Subjects

REPO_ARN = "arn:aws:ecr:eu-west-1:123456789012:repository/octo/hello"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
ISSUER = "https://token.actions.githubusercontent.com"


def test_push_policy_is_exactly_least_privilege() -> None:
    assert push_policy(REPO_ARN) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GetAuthorizationToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PushToOneRepository",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                "Resource": REPO_ARN,
            },
        ],
    }
    assert len(ECR_PUSH_ACTIONS) == 8


def test_provider_arn_follows_partition_and_issuer() -> None:
    assert oidc_provider_arn("aws-cn", "1", "https://ghes.example.com/_services/token/") == (
        "arn:aws-cn:iam::1:oidc-provider/ghes.example.com/_services/token"
    )


def test_trust_policy_for_exact_subjects_only() -> None:
    subjects = Subjects(exact=("repo:o/r:ref:refs/heads/main",), patterns=())
    assert trust_policy(PROVIDER, ISSUER, subjects) == {
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
                        "token.actions.githubusercontent.com:sub": ["repo:o/r:ref:refs/heads/main"],
                    }
                },
            }
        ],
    }


def test_trust_policy_puts_patterns_in_their_own_stringlike_statement() -> None:
    subjects = Subjects(exact=("repo:o/r:pull_request",), patterns=("repo:o/r:ref:refs/tags/v*",))
    document = trust_policy(PROVIDER, ISSUER, subjects)
    second = document["Statement"][1]
    assert second["Condition"] == {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": ["repo:o/r:ref:refs/tags/v*"]},
    }
    assert "ForAllValues" not in json.dumps(document)


def test_dollar_signs_are_escaped_so_iam_does_not_read_a_variable() -> None:
    subjects = Subjects(exact=("repo:o/r:ref:refs/heads/${aws:username}",), patterns=())
    document = trust_policy(PROVIDER, ISSUER, subjects)
    values = document["Statement"][0]["Condition"]["StringEquals"]
    assert values["token.actions.githubusercontent.com:sub"] == [
        "repo:o/r:ref:refs/heads/${$}{aws:username}"
    ]


def test_canonical_form_ignores_order_and_single_string_lists() -> None:
    written = push_policy(REPO_ARN)
    as_aws_returns: dict[str, Any] = json.loads(json.dumps(written))
    as_aws_returns["Statement"].reverse()
    as_aws_returns["Statement"][0]["Action"].reverse()
    as_aws_returns["Statement"][1]["Action"] = ["ecr:GetAuthorizationToken"]
    assert same_document(written, as_aws_returns)
    widened = json.loads(json.dumps(written))
    widened["Statement"][1]["Resource"] = "*"
    assert not same_document(written, widened)
    assert canonical(written) != canonical(widened)


def test_lifecycle_policy_expires_untagged_images() -> None:
    rule = lifecycle_policy(14)["rules"][0]
    assert rule["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 14,
    }
    assert rule["action"] == {"type": "expire"}


def parliament(document: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """parliament reads the policy on stdin (its --file needs a terminal)."""
    binary = Path(sys.executable).with_name("parliament")
    return subprocess.run(
        [str(binary)], input=json.dumps(document), capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "document",
    [push_policy(REPO_ARN)],
    ids=["push-policy"],
)
def test_parliament_finds_nothing_in_our_policies(document: dict[str, Any]) -> None:
    result = parliament(document)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_parliament_does_flag_a_wildcard_resource() -> None:
    """The check above can fail: parliament is reading what we feed it."""
    bad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*"}],
    }
    result = parliament(bad)
    assert result.returncode != 0
    assert "Resource *" in result.stdout


def test_self_rotation_policy_is_pinned() -> None:
    """Golden: written out by hand, not recomputed from the constants under test."""
    arn = "arn:aws:iam::123456789012:user/ghbootstrap-octo-org-hello-world"
    assert self_rotation_policy(arn) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RotateOwnAccessKey",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateAccessKey",
                    "iam:DeleteAccessKey",
                    "iam:GetAccessKeyLastUsed",
                    "iam:GetUser",
                    "iam:ListAccessKeys",
                    "iam:ListUserTags",
                    "iam:UpdateAccessKey",
                ],
                "Resource": arn,
            },
            {
                "Sid": "KeepOwnKeyRecord",
                "Effect": "Allow",
                "Action": "iam:TagUser",
                "Resource": arn,
                "Condition": {
                    "ForAllValues:StringLike": {
                        "aws:TagKeys": ["ghbootstrap:key-*", "ghbootstrap:secrets-scope"]
                    }
                },
            },
        ],
    }
