"""ECR repositories: settings, tags, lifecycle policy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ghbootstrap.aws import tags
from ghbootstrap.aws.errors import absent_as_none
from ghbootstrap.aws.session import Client

_MISSING = frozenset({"RepositoryNotFoundException", "LifecyclePolicyNotFoundException"})


@dataclass(frozen=True)
class Repository:
    name: str
    arn: str
    uri: str
    immutable: bool
    scan_on_push: bool
    tags: tags.Tags


def _from_api(ecr: Client, raw: dict[str, Any]) -> Repository:
    found = ecr.list_tags_for_resource(resourceArn=raw["repositoryArn"])
    return Repository(
        name=raw["repositoryName"],
        arn=raw["repositoryArn"],
        uri=raw["repositoryUri"],
        immutable=raw.get("imageTagMutability", "MUTABLE").startswith("IMMUTABLE"),
        scan_on_push=bool(raw.get("imageScanningConfiguration", {}).get("scanOnPush")),
        tags=tags.to_dict(found.get("tags")),
    )


def get_repository(ecr: Client, name: str) -> Repository | None:
    found = absent_as_none(
        lambda: ecr.describe_repositories(repositoryNames=[name])["repositories"], _MISSING
    )
    return _from_api(ecr, found[0]) if found else None


def create_repository(ecr: Client, name: str, *, immutable: bool, tag: tags.Tags) -> Repository:
    created = ecr.create_repository(
        repositoryName=name,
        imageTagMutability=_mutability(immutable),
        imageScanningConfiguration={"scanOnPush": True},
        encryptionConfiguration={"encryptionType": "AES256"},
        tags=tags.to_list(tag),
    )["repository"]
    return _from_api(ecr, created)


def set_tags(ecr: Client, arn: str, tag: tags.Tags, remove: Sequence[str] = ()) -> None:
    if remove:
        ecr.untag_resource(resourceArn=arn, tagKeys=list(remove))
    ecr.tag_resource(resourceArn=arn, tags=tags.to_list(tag))


def set_settings(ecr: Client, name: str, *, immutable: bool, scan_on_push: bool) -> None:
    ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability=_mutability(immutable))
    ecr.put_image_scanning_configuration(
        repositoryName=name, imageScanningConfiguration={"scanOnPush": scan_on_push}
    )


def _mutability(immutable: bool) -> str:
    return "IMMUTABLE" if immutable else "MUTABLE"


def get_lifecycle_policy(ecr: Client, name: str) -> dict[str, Any] | None:
    text = absent_as_none(
        lambda: ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"], _MISSING
    )
    return None if text is None else dict(json.loads(text))


def put_lifecycle_policy(ecr: Client, name: str, document: dict[str, Any]) -> None:
    ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(document))


def has_images(ecr: Client, name: str) -> bool:
    return bool(ecr.list_images(repositoryName=name, maxResults=1).get("imageIds"))


def delete_repository(ecr: Client, name: str, *, force: bool) -> None:
    ecr.delete_repository(repositoryName=name, force=force)
