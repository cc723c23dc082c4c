"""The JSON documents the tool writes to AWS. Pure functions: no I/O, no SDKs.

Documents are compared canonically (`canonical`), so AWS's re-ordering, or a single
string where we wrote a one-element list, never counts as a difference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ghbootstrap.subjects import Subjects

POLICY_VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"

ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# What the CI user needs to rotate its own key, and to read its record (keyrecord.py).
SELF_ROTATION_ACTIONS = (
    "iam:CreateAccessKey",
    "iam:DeleteAccessKey",
    "iam:GetAccessKeyLastUsed",
    "iam:GetUser",
    "iam:ListAccessKeys",
    "iam:ListUserTags",
    "iam:UpdateAccessKey",
)
# Writing the record: only the record's own tags, never the ownership tag.
RECORD_TAG_PATTERNS = ("ghbootstrap:key-*", "ghbootstrap:secrets-scope")
UNTAGGED_EXPIRY_DAYS = 14

Document = dict[str, Any]


def ecr_repository_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account}:repository/{name}"


def oidc_provider_arn(partition: str, account: str, issuer: str) -> str:
    return f"arn:{partition}:iam::{account}:oidc-provider/{issuer_host(issuer)}"


def issuer_host(issuer: str) -> str:
    """The provider's URL as IAM names it: no scheme, no trailing slash."""
    return issuer.removeprefix("https://").rstrip("/")


def push_policy(repository_arn: str) -> Document:
    """Least privilege for pushing to one ECR repository, and nothing else."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                # GetAuthorizationToken cannot be scoped to a repository.
                "Sid": "GetAuthorizationToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PushToOneRepository",
                "Effect": "Allow",
                "Action": list(ECR_PUSH_ACTIONS),
                "Resource": repository_arn,
            },
        ],
    }


def self_rotation_policy(user_arn: str) -> Document:
    """Lets a CI user rotate its own access key: its own ARN only, nothing else."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "RotateOwnAccessKey",
                "Effect": "Allow",
                "Action": list(SELF_ROTATION_ACTIONS),
                "Resource": user_arn,
            },
            {
                "Sid": "KeepOwnKeyRecord",
                "Effect": "Allow",
                "Action": "iam:TagUser",
                "Resource": user_arn,
                "Condition": {
                    "ForAllValues:StringLike": {"aws:TagKeys": list(RECORD_TAG_PATTERNS)}
                },
            },
        ],
    }


def escape_policy_value(value: str) -> str:
    """IAM reads `${...}` in condition values as a policy variable; `${$}` is a literal $."""
    return value.replace("$", "${$}")


def trust_policy(provider_arn: str, issuer: str, subjects: Subjects) -> Document:
    """Trust for GitHub's OIDC tokens: the STS audience and this repository's subjects only.

    Exact subjects use StringEquals and patterns StringLike, each in its own statement
    (two operators on `sub` in one statement would have to match at once). Never
    ForAllValues: with a missing claim it is vacuously true.
    """
    host = issuer_host(issuer)
    statements = []
    for sid, operator, values in (
        ("GitHubActionsExactSubjects", "StringEquals", subjects.exact),
        ("GitHubActionsSubjectPatterns", "StringLike", subjects.patterns),
    ):
        if not values:
            continue
        condition: dict[str, dict[str, Any]] = {"StringEquals": {f"{host}:aud": STS_AUDIENCE}}
        condition.setdefault(operator, {})[f"{host}:sub"] = sorted(
            escape_policy_value(v) for v in values
        )
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}


def lifecycle_policy(days: int = UNTAGGED_EXPIRY_DAYS) -> Document:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": days,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def _as_sorted_list(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    return sorted(values, key=lambda v: json.dumps(v, sort_keys=True))


def _normalise_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A string and a one-element list mean the same to IAM, and order never matters."""
    out = dict(statement)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in out:
            out[key] = _as_sorted_list(out[key])
    for key in ("Principal", "NotPrincipal"):
        if isinstance(out.get(key), Mapping):
            out[key] = {k: _as_sorted_list(v) for k, v in out[key].items()}
    if isinstance(out.get("Condition"), Mapping):
        out["Condition"] = {
            op: {k: _as_sorted_list(v) for k, v in block.items()}
            for op, block in out["Condition"].items()
        }
    return out


def canonical(document: Mapping[str, Any]) -> str:
    """A stable text form of an IAM or ECR document, for equality checks."""
    if "Statement" in document:
        document = dict(document)
        document["Statement"] = _as_sorted_list(
            [_normalise_statement(s) for s in statements(document)]
        )
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def fingerprint(document: Mapping[str, Any]) -> str:
    """A short, stable digest of a document's canonical form, to keep in a tag."""
    return hashlib.sha256(canonical(document).encode()).hexdigest()[:32]


def same_document(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    return canonical(a) == canonical(b)


def compact(document: Mapping[str, Any]) -> str:
    """How a document is sent to AWS."""
    return json.dumps(document, separators=(",", ":"))


def pretty_json(document: Mapping[str, Any]) -> str:
    """How a document is shown to people: indented, keys in the order we wrote them."""
    return json.dumps(document, indent=2)


def statements(document: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    raw = document.get("Statement", [])
    return [raw] if isinstance(raw, Mapping) else list(raw)
