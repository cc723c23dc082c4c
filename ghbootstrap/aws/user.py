"""IAM users: tags, attached and inline policies. Never a console login profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ghbootstrap.aws import tags
from ghbootstrap.aws.paging import all_pages
from ghbootstrap.aws.session import Client
from ghbootstrap.documents import compact
from ghbootstrap.errors import AwsError


@dataclass(frozen=True)
class User:
    name: str
    arn: str
    tags: tags.Tags


def get_user(iam: Client, name: str) -> User | None:
    try:
        found = iam.get_user(UserName=name)["User"]
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            return None
        raise
    return User(found["UserName"], found["Arn"], tags.to_dict(found.get("Tags")))


def create_user(iam: Client, name: str, tag: tags.Tags) -> None:
    iam.create_user(UserName=name, Tags=tags.to_list(tag))


def tag_user(iam: Client, name: str, tag: tags.Tags) -> None:
    iam.tag_user(UserName=name, Tags=tags.to_list(tag))


def attached_policies(iam: Client, name: str) -> set[str]:
    try:
        found = iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            return set()
        raise
    return {p["PolicyArn"] for p in found}


def attach_policy(iam: Client, name: str, policy_arn: str) -> None:
    iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)


def detach_policy(iam: Client, name: str, policy_arn: str) -> None:
    iam.detach_user_policy(UserName=name, PolicyArn=policy_arn)


def inline_policy(iam: Client, name: str, policy_name: str) -> dict[str, Any] | None:
    try:
        found = iam.get_user_policy(UserName=name, PolicyName=policy_name)
    except AwsError as exc:
        if exc.code == "NoSuchEntity":
            return None
        raise
    document: dict[str, Any] = found["PolicyDocument"]
    return document


def put_inline_policy(iam: Client, name: str, policy_name: str, document: dict[str, Any]) -> None:
    iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=compact(document))


def delete_inline_policy(iam: Client, name: str, policy_name: str) -> None:
    iam.delete_user_policy(UserName=name, PolicyName=policy_name)


def inline_policies(iam: Client, name: str) -> list[str]:
    return list(iam.list_user_policies(UserName=name)["PolicyNames"])


def list_users(iam: Client) -> list[str]:
    return [u["UserName"] for u in all_pages(iam, "list_users", "Users")]


def delete_user(iam: Client, name: str) -> None:
    iam.delete_user(UserName=name)
