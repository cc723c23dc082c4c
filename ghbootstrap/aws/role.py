"""IAM roles: trust policy, tags, attached managed policies."""

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
class Role:
    name: str
    arn: str
    trust: dict[str, Any]
    tags: tags.Tags


def get_role(iam: Client, name: str) -> Role | None:
    found = absent_as_none(lambda: iam.get_role(RoleName=name)["Role"])
    if found is None:
        return None
    return Role(
        name=found["RoleName"],
        arn=found["Arn"],
        trust=found["AssumeRolePolicyDocument"],
        tags=tags.to_dict(found.get("Tags")),
    )


def create_role(
    iam: Client, name: str, trust: dict[str, Any], tag: tags.Tags, description: str
) -> None:
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=compact(trust),
        Description=description,
        Tags=tags.to_list(tag),
    )


def set_trust(iam: Client, name: str, trust: dict[str, Any]) -> None:
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=compact(trust))


def set_tags(iam: Client, name: str, tag: tags.Tags, remove: Sequence[str] = ()) -> None:
    """Write `tag` and drop the tags named in `remove` (records that got shorter)."""
    if remove:
        iam.untag_role(RoleName=name, TagKeys=list(remove))
    iam.tag_role(RoleName=name, Tags=tags.to_list(tag))


def tagged_roles(iam: Client, wanted: Callable[[tags.Tags], bool]) -> list[Role]:
    """The roles whose tags `wanted` accepts: one listing that returns tags with the roles
    (IAM offers no tag filter, and the tagging API does not cover IAM roles)."""
    found = all_pages(iam, "get_account_authorization_details", "RoleDetailList", Filter=["Role"])
    roles = [
        Role(r["RoleName"], r["Arn"], r["AssumeRolePolicyDocument"], tags.to_dict(r.get("Tags")))
        for r in found
    ]
    return [r for r in roles if wanted(r.tags)]


def attached_policies(iam: Client, name: str) -> set[str]:
    found = absent_as_none(lambda: iam.list_attached_role_policies(RoleName=name))
    return {p["PolicyArn"] for p in found["AttachedPolicies"]} if found else set()


def attach_policy(iam: Client, name: str, policy_arn: str) -> None:
    iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)


def detach_policy(iam: Client, name: str, policy_arn: str) -> None:
    iam.detach_role_policy(RoleName=name, PolicyArn=policy_arn)


def delete_role(iam: Client, name: str) -> None:
    iam.delete_role(RoleName=name)


def list_roles(iam: Client) -> list[tuple[str, dict[str, Any]]]:
    """Every role in the account with its trust policy (ListRoles, all pages). Good for
    finding roles; read a trust with `get_role` before judging it closely."""
    roles = all_pages(iam, "list_roles", "Roles")
    return [(r["RoleName"], r["AssumeRolePolicyDocument"]) for r in roles]


def inline_policies(iam: Client, name: str) -> list[str]:
    return list(iam.list_role_policies(RoleName=name)["PolicyNames"])


def delete_inline_policy(iam: Client, name: str, policy_name: str) -> None:
    iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
