"""IAM users: tags, attached and inline policies. Never a console login profile."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ghbootstrap.aws import tags
from ghbootstrap.aws.errors import absent_as_none
from ghbootstrap.aws.paging import all_pages
from ghbootstrap.aws.session import Client
from ghbootstrap.documents import compact


@dataclass(frozen=True)
class User:
    name: str
    arn: str
    tags: tags.Tags


def get_user(iam: Client, name: str) -> User | None:
    found = absent_as_none(lambda: iam.get_user(UserName=name)["User"])
    if found is None:
        return None
    return User(found["UserName"], found["Arn"], tags.to_dict(found.get("Tags")))


def create_user(iam: Client, name: str, tag: tags.Tags) -> None:
    iam.create_user(UserName=name, Tags=tags.to_list(tag))


def tag_user(iam: Client, name: str, tag: tags.Tags) -> None:
    iam.tag_user(UserName=name, Tags=tags.to_list(tag))


def set_tags(iam: Client, name: str, tag: tags.Tags, remove: Sequence[str] = ()) -> None:
    """Write `tag` and drop the tags named in `remove` (records that got shorter)."""
    if remove:
        iam.untag_user(UserName=name, TagKeys=list(remove))
    iam.tag_user(UserName=name, Tags=tags.to_list(tag))


def attached_policies(iam: Client, name: str) -> set[str]:
    found = absent_as_none(lambda: iam.list_attached_user_policies(UserName=name))
    return {p["PolicyArn"] for p in found["AttachedPolicies"]} if found else set()


def attach_policy(iam: Client, name: str, policy_arn: str) -> None:
    iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)


def detach_policy(iam: Client, name: str, policy_arn: str) -> None:
    iam.detach_user_policy(UserName=name, PolicyArn=policy_arn)


def inline_policy(iam: Client, name: str, policy_name: str) -> dict[str, Any] | None:
    found = absent_as_none(lambda: iam.get_user_policy(UserName=name, PolicyName=policy_name))
    return None if found is None else dict(found["PolicyDocument"])


def put_inline_policy(iam: Client, name: str, policy_name: str, document: dict[str, Any]) -> None:
    iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=compact(document))


def delete_inline_policy(iam: Client, name: str, policy_name: str) -> None:
    iam.delete_user_policy(UserName=name, PolicyName=policy_name)


def inline_policies(iam: Client, name: str) -> list[str]:
    return list(iam.list_user_policies(UserName=name)["PolicyNames"])


def tagged_users(iam: Client, wanted: Callable[[tags.Tags], bool]) -> list[User]:
    """The users whose tags `wanted` accepts: one listing that returns tags with the users."""
    found = all_pages(iam, "get_account_authorization_details", "UserDetailList", Filter=["User"])
    users = [User(u["UserName"], u["Arn"], tags.to_dict(u.get("Tags"))) for u in found]
    return [u for u in users if wanted(u.tags)]


def list_users(iam: Client) -> list[str]:
    return [u["UserName"] for u in all_pages(iam, "list_users", "Users")]


def delete_user(iam: Client, name: str) -> None:
    iam.delete_user(UserName=name)
