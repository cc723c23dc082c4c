"""Customer-managed IAM policies, with version pruning at AWS's limit of five."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ghbootstrap.aws import tags
from ghbootstrap.aws.errors import absent_as_none
from ghbootstrap.aws.session import Client
from ghbootstrap.documents import compact

MAX_VERSIONS = 5


@dataclass(frozen=True)
class ManagedPolicy:
    arn: str
    default_version: str
    document: dict[str, Any]
    tags: tags.Tags
    attachments: int


def get_policy(iam: Client, arn: str) -> ManagedPolicy | None:
    found = absent_as_none(lambda: iam.get_policy(PolicyArn=arn)["Policy"])
    if found is None:
        return None
    version = iam.get_policy_version(PolicyArn=arn, VersionId=found["DefaultVersionId"])
    return ManagedPolicy(
        arn=arn,
        default_version=found["DefaultVersionId"],
        document=version["PolicyVersion"]["Document"],
        tags=tags.to_dict(found.get("Tags")),
        attachments=int(found.get("AttachmentCount", 0)),
    )


def create_policy(
    iam: Client, name: str, document: dict[str, Any], tag: tags.Tags, description: str
) -> str:
    created = iam.create_policy(
        PolicyName=name,
        PolicyDocument=compact(document),
        Description=description,
        Tags=tags.to_list(tag),
    )
    return str(created["Policy"]["Arn"])


def set_document(iam: Client, arn: str, document: dict[str, Any]) -> None:
    """Make `document` the default version, first deleting the oldest non-default at the limit."""
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= MAX_VERSIONS:
        oldest = min(
            (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
        )
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=compact(document), SetAsDefault=True)


def delete_policy(iam: Client, arn: str) -> None:
    """Delete a policy and its non-default versions (AWS refuses otherwise)."""
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)
