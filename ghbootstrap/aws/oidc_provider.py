"""GitHub's OIDC identity provider in IAM: one per account and issuer, shared by all roles."""

from __future__ import annotations

from dataclasses import dataclass

from ghbootstrap.aws import tags
from ghbootstrap.aws.errors import absent_as_none
from ghbootstrap.aws.session import Client


@dataclass(frozen=True)
class Provider:
    arn: str
    audiences: tuple[str, ...]
    tags: tags.Tags


def get_provider(iam: Client, arn: str) -> Provider | None:
    found = absent_as_none(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    if found is None:
        return None
    return Provider(arn, tuple(found.get("ClientIDList", ())), tags.to_dict(found.get("Tags")))


def create_provider(iam: Client, issuer: str, audience: str, tag: tags.Tags) -> str:
    # github.com's issuer needs no thumbprint: IAM trusts its certificate authority.
    created = iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=[audience], Tags=tags.to_list(tag)
    )
    return str(created["OpenIDConnectProviderArn"])


def add_audience(iam: Client, arn: str, audience: str) -> None:
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID=audience)


def delete_provider(iam: Client, arn: str) -> None:
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
